// C ABI entry points for the library, devices, contexts, memory and copies.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <utility>

#include "core/checked.h"
#include "core/context.h"
#include "kiln_build_config.h"
#include "core/gpu.h"
#include "core/host_memory.h"
#include "cpu/cpu_info.h"
#include "cpu/parallel.h"


using kiln::fail;
using kiln::guarded;

namespace {

void check_cuda_index(int32_t index, const char* op) {
    const char* reason = "";
    const int count = kiln::gpu::device_count(&reason);
    if (index < 0 || index >= count) {
        if (count == 0) fail(KILN_ERR_NO_DEVICE, "%s: cuda:%d requested but no CUDA device is available: %s", op, index, reason);
        fail(KILN_ERR_NO_DEVICE, "%s: cuda:%d requested but this machine has %d CUDA device(s) (cuda:0..cuda:%d)", op,
             index, count, count - 1);
    }
}

// KILN_MEMORY_LIMIT_BYTES for a new context: a decimal byte count; unset, empty or 0 means no cap. Anything else is
// refused rather than ignored, so a typo cannot silently turn an out-of-memory test into a pass.
uint64_t memory_limit_from_env(const char* op) {
    const char* v = std::getenv("KILN_MEMORY_LIMIT_BYTES");
    if (!v || !*v) return 0;
    uint64_t bytes = 0;
    for (const char* p = v; *p; ++p) {
        if (*p < '0' || *p > '9' || __builtin_mul_overflow(bytes, 10u, &bytes) ||
            __builtin_add_overflow(bytes, (uint64_t)(*p - '0'), &bytes))
            fail(KILN_ERR_INVALID_ARGUMENT,
                 "%s: KILN_MEMORY_LIMIT_BYTES='%.64s' is not a byte count (a decimal number below 2^64; 0 = no limit)",
                 op, v);
    }
    return bytes;
}

// The CUDA half of a new context on cuda:index: its stream (Kiln's own when caller_stream is null, else the caller's,
// which Kiln never destroys) and a caching allocator whose reuse is ordered by that stream.
void init_cuda(kiln_context& ctx, int32_t index, void* caller_stream, const char* op) {
    check_cuda_index(index, op);
    ctx.name = "cuda:" + std::to_string(index);
    if (caller_stream) kiln::gpu::check_stream(index, caller_stream, op);
    ctx.owns_stream = caller_stream == nullptr;
    ctx.stream = caller_stream ? caller_stream : kiln::gpu::create_stream(index);
    const int dev = index;
#if defined(KILN_CUDA_EMU)
    // The emulated device's memory (native/emu) is host memory: poisoned as the CPU's is under AddressSanitizer, so
    // that a kernel's read past its buffer, or of a freed one, is reported.
    constexpr bool host_memory = true;
#else
    constexpr bool host_memory = false;
#endif
    ctx.allocator = std::make_unique<kiln::Allocator>(
        ctx.name.c_str(), 256, true, [dev](size_t n) { return kiln::gpu::malloc_or_null(dev, n); },
        [dev](void* p, size_t) { kiln::gpu::free(dev, p); }, host_memory);
}

}  // namespace

extern "C" {

const char* kiln_last_error(void) { return kiln::last_error(); }

int32_t kiln_abi_version(void) { return KILN_ABI_VERSION; }

const char* kiln_build_info(void) {
    static const std::string info = std::string("kiln ") + KILN_VERSION + "; cuda: " +
                                    (KILN_WITH_CUDA ? std::string(kiln::gpu::build_archs()) : std::string("cpu-only")) +
                                    "; cpu: " + kiln::cpu::vector_isa();
    return info.c_str();
}

kiln_status kiln_noop(void) { return KILN_OK; }

kiln_status kiln_cuda_device_count(int32_t* count, const char** reason) {
    return guarded("kiln_cuda_device_count", [&] {
        if (!count) fail(KILN_ERR_INVALID_ARGUMENT, "kiln_cuda_device_count: argument 'count' is null");
        *count = kiln::gpu::device_count(reason);
    });
}

kiln_status kiln_device_properties(kiln_device_kind kind, int32_t index, kiln_device_props* out) {
    return guarded("kiln_device_properties", [&] {
        if (!out) fail(KILN_ERR_INVALID_ARGUMENT, "kiln_device_properties: argument 'out' is null");
        const int k = static_cast<int>(kind);
        if (k == KILN_DEVICE_CPU) {
            if (index != 0) fail(KILN_ERR_NO_DEVICE, "kiln_device_properties: cpu:%d requested; there is only cpu:0", index);
            std::memset(out, 0, sizeof(*out));
            std::strncpy(out->name, kiln::cpu::model_name().c_str(), sizeof(out->name) - 1);
            out->total_memory = kiln::cpu::total_memory_bytes();
            out->free_memory = kiln::cpu::available_memory_bytes();
            out->multiprocessors = (int32_t)kiln::cpu::num_threads();
            return;
        }
        if (k != KILN_DEVICE_CUDA) fail(KILN_ERR_INVALID_ARGUMENT, "kiln_device_properties: unknown device kind %d", k);
        check_cuda_index(index, "kiln_device_properties");
        kiln::gpu::properties(index, out);
    });
}

kiln_status kiln_context_create(kiln_device_kind kind, int32_t index, kiln_context** out) {
    return guarded("kiln_context_create", [&] {
        if (!out) fail(KILN_ERR_INVALID_ARGUMENT, "kiln_context_create: argument 'out' is null");
        *out = nullptr;
        const uint64_t limit = memory_limit_from_env("kiln_context_create");  // before any stream exists to leak
        const int k = static_cast<int>(kind);
        if (k != KILN_DEVICE_CPU && k != KILN_DEVICE_CUDA)
            fail(KILN_ERR_INVALID_ARGUMENT, "kiln_context_create: unknown device kind %d (0 = cpu, 1 = cuda)", k);
        auto ctx = std::make_unique<kiln_context>();
        ctx->kind = k == KILN_DEVICE_CPU ? KILN_DEVICE_CPU : KILN_DEVICE_CUDA;
        ctx->index = index;
        ctx->stream = nullptr;
        ctx->owns_stream = false;
        if (k == KILN_DEVICE_CPU) {
            if (index != 0) fail(KILN_ERR_NO_DEVICE, "kiln_context_create: cpu:%d requested; there is only cpu:0", index);
            ctx->name = "cpu";
            // Cached like CUDA memory: glibc serves big blocks with fresh mmaps (page faults on every first touch)
            // until its adaptive threshold catches up, which made a training run's first epoch twice as slow. Blocks
            // of 2 MiB and more sit on huge pages (core/host_memory.cpp says why).
            ctx->allocator = std::make_unique<kiln::Allocator>("cpu", 64, true, kiln::host_alloc, kiln::host_free, true);
        } else {
            init_cuda(*ctx, index, nullptr, "kiln_context_create");
        }
        ctx->allocator->set_limit(limit);
        *out = kiln::register_context(std::move(ctx));
    });
}

kiln_status kiln_context_create_on_stream(int32_t index, void* stream, kiln_context** out) {
    return guarded("kiln_context_create_on_stream", [&] {
        if (!out) fail(KILN_ERR_INVALID_ARGUMENT, "kiln_context_create_on_stream: argument 'out' is null");
        *out = nullptr;
        const uint64_t limit = memory_limit_from_env("kiln_context_create_on_stream");
        if (!stream)
            fail(KILN_ERR_INVALID_ARGUMENT, "kiln_context_create_on_stream: argument 'stream' is null (the legacy "
                 "default stream); pass a stream of your own, or use kiln_context_create for one of Kiln's");
        auto ctx = std::make_unique<kiln_context>();
        ctx->kind = KILN_DEVICE_CUDA;
        ctx->index = index;
        init_cuda(*ctx, index, stream, "kiln_context_create_on_stream");
        ctx->allocator->set_limit(limit);
        *out = kiln::register_context(std::move(ctx));
    });
}

kiln_status kiln_context_destroy(kiln_context* ctx) {
    return guarded("kiln_context_destroy", [&] {
        if (!ctx) return;
        kiln_context& c = kiln::op_context(ctx, "kiln_context_destroy");
        kiln::refuse_while_capturing(c, "kiln_context_destroy", "waits for the stream", "end the capture first");
        if (c.stream) kiln::gpu::synchronize(c.stream);
        kiln::retire_context(ctx, "kiln_context_destroy");
        {
            std::lock_guard<std::mutex> lock(c.timer_mu);
            c.timing.store(false, std::memory_order_release);
            c.timer.reset();
        }
        c.stream_timer.reset();
        kiln::release_l2_flush(c);
        c.allocator.reset();
        if (c.stream && c.owns_stream) kiln::gpu::destroy_stream(c.index, c.stream);
        c.stream = nullptr;
        c.name.clear();
    });
}

kiln_status kiln_synchronize(kiln_context* ctx) {
    return guarded("kiln_synchronize", [&] {
        kiln_context& c = kiln::op_context(ctx, "kiln_synchronize");
        kiln::refuse_while_capturing(c, "kiln_synchronize", "waits for the device",
                                     "synchronize after kiln_graph_launch instead");
        if (c.stream) kiln::gpu::synchronize(c.stream);
    });
}

kiln_status kiln_alloc(kiln_context* ctx, size_t bytes, void** out) {
    if (out) *out = nullptr;  // a failed call hands out nothing, like every entry that returns through a pointer
    return guarded("kiln_alloc", [&] {
        kiln_context& c = kiln::op_context(ctx, "kiln_alloc");
        if (!out) fail(KILN_ERR_INVALID_ARGUMENT, "kiln_alloc: argument 'out' is null");
        *out = kiln::allocate(c, bytes);
    });
}

kiln_status kiln_free(kiln_context* ctx, void* ptr) {
    // Any thread, even while another captures (a JVM's cleaner frees on its own thread): the allocator holds back
    // the blocks a graph uses by itself.
    return guarded("kiln_free", [&] { kiln::op_context_any_thread(ctx, "kiln_free").allocator->release(ptr); });
}

kiln_status kiln_memory_stats_get(kiln_context* ctx, kiln_memory_stats* out) {
    return guarded("kiln_memory_stats_get", [&] {
        kiln_context& c = kiln::op_context_any_thread(ctx, "kiln_memory_stats_get");
        if (!out) fail(KILN_ERR_INVALID_ARGUMENT, "kiln_memory_stats_get: argument 'out' is null");
        *out = c.allocator->stats();
    });
}

kiln_status kiln_empty_cache(kiln_context* ctx) {
    return guarded("kiln_empty_cache", [&] {
        kiln_context& c = kiln::op_context(ctx, "kiln_empty_cache");
        kiln::refuse_while_capturing(c, "kiln_empty_cache", "returns memory with cudaFree, which waits for the device",
                                     "empty the cache before or after capturing");
        kiln::release_l2_flush(c);  // kiln_flush_l2's buffer is cached memory too, as far as the caller is concerned
        c.allocator->empty_cache();
    });
}

kiln_status kiln_set_memory_limit(kiln_context* ctx, uint64_t bytes) {
    return guarded("kiln_set_memory_limit",
                   [&] { kiln::op_context(ctx, "kiln_set_memory_limit").allocator->set_limit(bytes); });
}

static kiln_status copy_entry(const char* op, kiln_context* ctx, void* dst, const void* src, size_t bytes,
                              kiln::gpu::CopyKind kind) {
    return guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        // A count past the one limit on element counts (2^60 - 1) describes no real buffer: a caller's bug, such as a
        // negative size cast, which memmove would otherwise chase across the address space.
        kiln::checked_count(op, "the copy", "bytes", bytes);
        // Named as kiln.h names them: the host side is host_dst or host_src.
        kiln::require_data(dst, bytes, op, kind == kiln::gpu::CopyKind::ToHost ? "host_dst" : "dst");
        kiln::require_data(src, bytes, op, kind == kiln::gpu::CopyKind::ToDevice ? "host_src" : "src");
        if (kind == kiln::gpu::CopyKind::ToHost)
            kiln::refuse_while_capturing(c, op, "reads the device back", "read results after kiln_graph_launch");
        // A captured host-to-device copy would read the host buffer again at every replay, long after the caller
        // (a JVM array pinned for the call) has let it go.
        if (kind == kiln::gpu::CopyKind::ToDevice)
            kiln::refuse_while_capturing(c, op, "copies from host memory and waits for it",
                                         "copy new inputs into the captured step's input buffers before each launch");
        if (bytes == 0 || dst == src) return;
        // cudaMemcpy leaves overlapping regions undefined, so both backends refuse them (as kiln_copy_device_2d does)
        // rather than shifting a buffer correctly on the CPU and corrupting it on a GPU.
        const auto* d = static_cast<const char*>(dst);
        const auto* s = static_cast<const char*>(src);
        if (kind == kiln::gpu::CopyKind::DeviceToDevice && d < s + bytes && s < d + bytes)
            kiln::fail(KILN_ERR_INVALID_ARGUMENT, "%s: dst and src overlap (%zu bytes %s by %td bytes)", op, bytes,
                       d > s ? "shifted up" : "shifted down", d > s ? d - s : s - d);
        if (kiln::on_cpu(c)) {
            std::memmove(dst, src, bytes);
        } else {
            kiln::gpu::copy(c.stream, dst, src, bytes, kind);
        }
    });
}

kiln_status kiln_copy_to_device(kiln_context* ctx, void* dst, const void* host_src, size_t bytes) {
    return copy_entry("kiln_copy_to_device", ctx, dst, host_src, bytes, kiln::gpu::CopyKind::ToDevice);
}

kiln_status kiln_copy_to_host(kiln_context* ctx, void* host_dst, const void* src, size_t bytes) {
    return copy_entry("kiln_copy_to_host", ctx, host_dst, src, bytes, kiln::gpu::CopyKind::ToHost);
}

kiln_status kiln_copy_device(kiln_context* ctx, void* dst, const void* src, size_t bytes) {
    return copy_entry("kiln_copy_device", ctx, dst, src, bytes, kiln::gpu::CopyKind::DeviceToDevice);
}

kiln_status kiln_copy_device_2d(kiln_context* ctx, void* dst, size_t dst_pitch, const void* src, size_t src_pitch,
                                size_t width, size_t rows) {
    const char* op = "kiln_copy_device_2d";
    return guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t w = kiln::checked_count(op, "the copy", "width", width);
        const int64_t r = kiln::checked_count(op, "the copy", "rows", rows);
        const int64_t dp = kiln::checked_count(op, "dst", "dst_pitch", dst_pitch);
        const int64_t sp = kiln::checked_count(op, "src", "src_pitch", src_pitch);
        if (width == 0 || rows == 0) return;
        if (rows > 1 && (dst_pitch < width || src_pitch < width)) {
            kiln::fail(KILN_ERR_INVALID_ARGUMENT, "%s: pitches (dst %zu, src %zu) must be at least the width %zu", op,
                       dst_pitch, src_pitch, width);
        }
        // The bytes each side spans: (rows - 1) pitches and one row, by the overflow-checked helpers.
        const size_t dst_span = (size_t)kiln::checked_span(op, "dst", {"rows", r}, {"dst_pitch", dp}, {"width", w});
        const size_t src_span = (size_t)kiln::checked_span(op, "src", {"rows", r}, {"src_pitch", sp}, {"width", w});
        kiln::require_data(dst, dst_span, op, "dst");
        kiln::require_data(src, src_span, op, "src");
        const auto* d = static_cast<const char*>(dst);
        const auto* s = static_cast<const char*>(src);
        if (d < s + src_span && s < d + dst_span) {
            kiln::fail(KILN_ERR_INVALID_ARGUMENT, "%s: dst and src overlap", op);
        }
        if (kiln::on_cpu(c)) {
            for (size_t r = 0; r < rows; ++r) std::memcpy(static_cast<char*>(dst) + r * dst_pitch, s + r * src_pitch, width);
        } else {
            kiln::gpu::copy_2d(c.stream, dst, dst_pitch, src, src_pitch, width, rows);
        }
    });
}

}  // extern "C"

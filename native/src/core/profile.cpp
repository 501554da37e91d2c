// Profiling entries of the C ABI (kiln.h, "profiling"): the thread's last op and kernel path, per-op device times
// from CUDA events, a stream timer and an L2 flush for benchmarks, and NVTX ranges.
#include "core/profile.h"

#include <mutex>

#include "core/context.h"
#include "core/error.h"
#include "core/gpu.h"

namespace kiln {

namespace {
// Pointers to string literals only: nothing to free, and a stale read can never dangle.
thread_local const char* t_entry = "";
thread_local const char* t_path = "";
thread_local bool t_timed = false;
}  // namespace

void begin_entry(const char* entry) noexcept {
    t_entry = entry;
    t_path = "";
    t_timed = false;
}

void note_device_timed() noexcept { t_timed = true; }

void note_kernel_path(const char* path) noexcept { t_path = path ? path : ""; }

void take_last_entry(const char** entry, const char** path, bool* device_timed) noexcept {
    *entry = t_entry;
    *path = t_path;
    *device_timed = t_timed;
    begin_entry("");
}

}  // namespace kiln

using kiln::fail;
using kiln::guarded;

// Not guarded: guarded() would make this entry its own last op.
kiln_status kiln_last_op(const char** entry, const char** path, int32_t* device_timed) {
    if (!entry || !path || !device_timed) {
        kiln::set_last_error("kiln_last_op: arguments 'entry', 'path' and 'device_timed' must not be null");
        return KILN_ERR_INVALID_ARGUMENT;
    }
    bool timed = false;
    kiln::take_last_entry(entry, path, &timed);
    *device_timed = timed ? 1 : 0;
    return KILN_OK;
}

kiln_status kiln_profile_device_timing(kiln_context* ctx, int32_t on) {
    return guarded("kiln_profile_device_timing", [&] {
        kiln_context& c = kiln::op_context(ctx, "kiln_profile_device_timing");
        if (kiln::on_cpu(c)) return;  // the CPU's op time is its wall time, which the caller measures
        kiln::refuse_while_capturing(c, "kiln_profile_device_timing", "records CUDA events to read back",
                                     "switch device timing before or after capturing");
        std::lock_guard<std::mutex> lock(c.timer_mu);
        if (!on) {
            c.timing.store(false, std::memory_order_release);
            c.timer.reset();
        } else if (!c.timer) {
            c.timer.reset(kiln::gpu::op_timer_create(c.index));
            c.timing.store(true, std::memory_order_release);
        }
    });
}

kiln_status kiln_profile_device_times(kiln_context* ctx, float* ms, int64_t capacity, int64_t* count) {
    return guarded("kiln_profile_device_times", [&] {
        kiln_context& c = kiln::op_context(ctx, "kiln_profile_device_times");
        if (!count) fail(KILN_ERR_INVALID_ARGUMENT, "kiln_profile_device_times: argument 'count' is null");
        if (capacity < 0) fail(KILN_ERR_INVALID_ARGUMENT, "kiln_profile_device_times: capacity %lld < 0", (long long)capacity);
        if (!ms && capacity > 0) fail(KILN_ERR_INVALID_ARGUMENT, "kiln_profile_device_times: argument 'ms' is null");
        *count = 0;
        kiln::refuse_while_capturing(c, "kiln_profile_device_times", "waits for the device's timing events",
                                     "collect the times after capturing");
        if (kiln::on_cpu(c)) return;
        std::lock_guard<std::mutex> lock(c.timer_mu);
        if (!c.timer) return;
        *count = kiln::gpu::op_timer_collect(c.timer.get(), c.stream, ms, capacity);
    });
}

kiln_status kiln_stream_timer_start(kiln_context* ctx) {
    const char* op = "kiln_stream_timer_start";
    return guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        kiln::refuse_while_capturing(c, op, "records a CUDA event to wait for", "time the graph's launches instead");
        if (kiln::on_cpu(c))
            fail(KILN_ERR_UNSUPPORTED, "%s: the cpu context runs each op as it is called and has no stream to time; "
                 "its op's time is the caller's wall time", op);
        std::lock_guard<std::mutex> lock(c.bench_mu);
        if (!c.stream_timer) c.stream_timer.reset(kiln::gpu::stream_timer_create(c.index));
        kiln::gpu::stream_timer_start(c.stream_timer.get(), c.stream);
        c.stream_timer_running = true;
    });
}

kiln_status kiln_stream_timer_stop(kiln_context* ctx, double* ms) {
    const char* op = "kiln_stream_timer_stop";
    return guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        if (!ms) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'ms' is null", op);
        *ms = 0.0;
        kiln::refuse_while_capturing(c, op, "waits for a CUDA event", "time the graph's launches instead");
        if (kiln::on_cpu(c))
            fail(KILN_ERR_UNSUPPORTED, "%s: the cpu context runs each op as it is called and has no stream to time; "
                 "its op's time is the caller's wall time", op);
        std::lock_guard<std::mutex> lock(c.bench_mu);
        if (!c.stream_timer_running)
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: no stretch is being timed on %s (call kiln_stream_timer_start first)",
                 op, c.name.c_str());
        c.stream_timer_running = false;
        *ms = kiln::gpu::stream_timer_stop(c.stream_timer.get(), c.stream);
    });
}

kiln_status kiln_flush_l2(kiln_context* ctx, uint64_t* bytes) {
    const char* op = "kiln_flush_l2";
    return guarded(op, [&] {
        if (bytes) *bytes = 0;
        kiln_context& c = kiln::op_context(ctx, op);
        kiln::refuse_while_capturing(c, op, "allocates its buffer outside the cache's rules",
                                     "flush before or after capturing");
        if (kiln::on_cpu(c)) return;  // documented no-op: the CPU's last-level cache is not the subject
        std::lock_guard<std::mutex> lock(c.bench_mu);
        if (!c.l2_flush) {
            constexpr size_t kMiB = size_t(1) << 20;
            const size_t want = (2 * kiln::gpu::l2_cache_bytes(c.index) + kMiB - 1) / kMiB * kMiB;
            const size_t size = want > 0 ? want : kMiB;
            c.l2_flush = kiln::allocate(c, size);
            c.l2_flush_bytes = size;
        }
        kiln::gpu::memset_async(c.stream, c.l2_flush, 0, c.l2_flush_bytes);
        if (bytes) *bytes = c.l2_flush_bytes;
    });
}

namespace kiln {

void release_l2_flush(kiln_context& ctx) {
    std::lock_guard<std::mutex> lock(ctx.bench_mu);
    if (!ctx.l2_flush) return;
    void* p = ctx.l2_flush;
    ctx.l2_flush = nullptr;
    ctx.l2_flush_bytes = 0;
    ctx.allocator->release(p);
}

}  // namespace kiln

kiln_status kiln_range_push(const char* name) {
    return guarded("kiln_range_push", [&] {
        if (!name) fail(KILN_ERR_INVALID_ARGUMENT, "kiln_range_push: argument 'name' is null");
        kiln::gpu::range_push(name);
    });
}

kiln_status kiln_range_pop(void) {
    return guarded("kiln_range_pop", [] { kiln::gpu::range_pop(); });
}

// The harness's call families over the runtime entries: library information, contexts (created, destroyed, stale,
// foreign), memory (kiln_alloc, kiln_free, stats, limits, copies), fill and the Philox random streams.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/allocator.h"
#include "enum_shim.h"
#include "fuzz_calls.h"
#include "fuzz_harness.h"

namespace kiln::fuzz {

void call_library(State& s) {
    switch (s.in.u8() % 6) {
        case 0:
            if (kiln_abi_version() != KILN_ABI_VERSION) finding("ABI version differs from the header", "kiln_abi_version");
            break;
        case 1:
            if (!kiln_build_info() || !kiln_build_info()[0]) finding("empty build info", "kiln_build_info");
            break;
        case 2:
            if (kiln_noop() != KILN_OK) finding("noop failed", "kiln_noop");
            break;
        case 3: {
            if (!kiln_last_error()) finding("null message", "kiln_last_error");
            break;
        }
        case 4: {
            int32_t count = -1;
            const char* reason = nullptr;
            const bool want_count = !s.in.one_in(8), want_reason = !s.in.one_in(3);
            const kiln_status st = kiln_cuda_device_count(want_count ? &count : nullptr, want_reason ? &reason : nullptr);
            if (!want_count && st == KILN_OK) finding("null count accepted", "kiln_cuda_device_count");
            if (want_count && (st != KILN_OK || count != 0)) finding("a CPU-only build reports CUDA devices", "kiln_cuda_device_count");
            break;
        }
        case 5: {
            kiln_device_props props;
            int32_t kind = s.in.one_in(4) ? s.in.i32() : (int32_t)(s.in.u8() % 2);
            const int32_t index = s.in.one_in(2) ? 0 : s.in.i32();
            const bool want = !s.in.one_in(8);
            const kiln_status st = fuzz_device_properties(kind, index, want ? &props : nullptr);
            if (st == KILN_OK && (!want || kind != KILN_DEVICE_CPU || index != 0))
                finding("properties of no device", "kiln_device_properties");
            break;
        }
    }
}

void call_context(State& s) {
    switch (s.in.u8() % 4) {
        case 0: {  // destroy one live context (it becomes stale) and create its replacement
            const int i = s.in.u8() & 1;
            if (kiln_context_destroy(s.live[i]) != KILN_OK) finding("destroying a live context failed", "kiln_context_destroy");
            s.stale.push_back(s.live[i]);
            for (size_t a = 0; a < s.allocs.size();)
                if (s.allocs[a].ctx == i) s.allocs.erase(s.allocs.begin() + a); else ++a;
            s.live[i] = nullptr;
            s.limit[i] = 0;
            if (kiln_context_create(KILN_DEVICE_CPU, 0, &s.live[i]) != KILN_OK || !s.live[i])
                finding("creating a CPU context failed", "kiln_context_create");
            break;
        }
        case 1: {  // destroy something that is not a live context
            Call c(s, "kiln_context_destroy");
            kiln_context* ctx = pick_context(s, c, true);
            if (live_index(s, ctx) >= 0) return;  // live ones are destroyed by case 0
            c.check(kiln_context_destroy(ctx));  // NULL is a no-op; stale and foreign handles must be refused
            break;
        }
        case 2: {
            Call c(s, "kiln_synchronize");
            c.check(kiln_synchronize(pick_context(s, c)));
            break;
        }
        case 3: {  // contexts that cannot exist
            int32_t kind = s.in.i32();
            const int32_t index = s.in.i32();
            if (kind == KILN_DEVICE_CPU && index == 0) kind = KILN_DEVICE_CUDA;  // no GPU in this build
            kiln_context* out = reinterpret_cast<kiln_context*>(s.foreign_bytes);
            const bool want = !s.in.one_in(4);
            const kiln_status st = fuzz_context_create(kind, index, want ? &out : nullptr);
            if (st == KILN_OK) finding("created a context for no device", "kiln_context_create");
            if (want && out != nullptr) finding("*out not cleared on failure", "kiln_context_create");
            // The same on a caller's stream, from the bytes already drawn (so the corpus keeps its paths): a foreign
            // "stream" must never be read when there is no device, and a null one is refused.
            void* stream = (index & 1) ? static_cast<void*>(s.foreign_bytes) : nullptr;
            out = reinterpret_cast<kiln_context*>(s.foreign_bytes);
            if (kiln_context_create_on_stream(index, stream, want ? &out : nullptr) == KILN_OK)
                finding("created a context on a stream of no device", "kiln_context_create_on_stream");
            if (want && out != nullptr) finding("*out not cleared on failure", "kiln_context_create_on_stream");
            break;
        }
    }
}

void call_memory(State& s) {
    switch (s.in.u8() % 6) {
        case 0: {
            Call c(s, "kiln_alloc");
            kiln_context* ctx = pick_context(s, c);
            const int i = live_index(s, ctx);
            uint64_t bytes = (uint64_t)s.in.size();
            // Without a cap, a request the host may actually grant is kept below the harness's budget; the cap makes
            // any size safe to ask for, since it is refused before the system is asked.
            const bool capped = i >= 0 && s.limit[i] != 0 && s.limit[i] <= (uint64_t)kMaxAllocBytes;
            if (i >= 0 && !capped && bytes > (uint64_t)kMaxAllocBytes && bytes < UINT64_MAX - (1u << 21)) bytes %= 4096;
            // A capped huge request lands, one time in two (decided by bits already drawn, so the corpus decodes as
            // before), in the window just below 2^64 where reserved + size wraps: the cap must refuse it by name.
            if (capped && bytes > (uint64_t)kMaxAllocBytes && (bytes & 1) == 0)
                bytes = UINT64_MAX - (uint64_t(2) << 20) + 1 + (bytes >> 1) % (uint64_t(1) << 21);
            void* out = nullptr;
            void** out_arg = c.given("out", Use::out, s.in.one_in(10) ? nullptr : &out);
            const kiln_status st = c.call(kiln_alloc, ctx, bytes, out_arg);
            if (st == KILN_OK) {
                if (!out || (reinterpret_cast<uintptr_t>(out) & 63) != 0) finding("null or misaligned block", "kiln_alloc");
                std::memset(out, 0xA5, bytes);  // the whole block must be ours to write
                s.allocs.push_back({i, out, (int64_t)bytes});
            } else if (st != KILN_ERR_INVALID_ARGUMENT && st != KILN_ERR_OUT_OF_MEMORY) {
                finding("unexpected status", "kiln_alloc");
            } else if (out != nullptr) {
                finding("*out not cleared on failure", "kiln_alloc");
            }
            // A block larger than the cap can never fit it, whatever else is reserved: the cap must be what refuses it.
            const size_t rounded = kiln::Allocator::rounded_size(bytes, 64);
            if (st == KILN_ERR_OUT_OF_MEMORY && capped && rounded != 0 && rounded > s.limit[i] &&
                std::strstr(kiln_last_error(), "the memory limit") == nullptr)
                finding("a request past the cap was not refused by the cap", "kiln_alloc");
            break;
        }
        case 1: {
            Call c(s, "kiln_free");
            kiln_context* ctx = pick_context(s, c, false);
            const uint8_t k = s.in.u8();
            void* ptr;
            size_t slot = SIZE_MAX;
            if (k < 160 && !s.allocs.empty()) {
                slot = s.in.u8() % s.allocs.size();
                ptr = s.allocs[slot].ptr;
                if (live_index(s, ctx) != s.allocs[slot].ctx) c.forbid();  // another context's block
            } else if (k < 200) {
                ptr = nullptr;  // free(NULL) is a no-op on a live context
            } else {
                ptr = s.foreign_bytes;
                c.forbid();
            }
            const kiln_status st = kiln_free(ctx, ptr);
            c.check(st);
            if (st == KILN_OK && slot != SIZE_MAX) s.allocs.erase(s.allocs.begin() + slot);
            break;
        }
        case 2: {
            Call c(s, "kiln_memory_stats_get");
            kiln_context* ctx = pick_context(s, c);
            kiln_memory_stats st{};
            const kiln_status status =
                c.call(kiln_memory_stats_get, ctx, c.given("out", Use::out, s.in.one_in(8) ? nullptr : &st));
            if (st.bytes_in_use > st.bytes_reserved || st.live_allocations > st.total_allocations)
                finding("inconsistent counters", "kiln_memory_stats_get");
            const int i = live_index(s, ctx);
            if (status == KILN_OK && i >= 0) {
                // Exact on the CPU, where nothing but kiln_alloc takes blocks: what is in use is what the harness
                // holds, each block rounded as the allocator rounds it.
                uint64_t blocks = 0, bytes = 0;
                for (const State::Alloc& a : s.allocs)
                    if (a.ctx == i) ++blocks, bytes += kiln::Allocator::rounded_size((size_t)a.bytes, 64);
                if (st.live_allocations != blocks || st.bytes_in_use != bytes)
                    finding("blocks in use differ from the blocks handed out", "kiln_memory_stats_get");
                if (st.total_allocations != st.cache_hits + st.system_allocations || st.peak_bytes_in_use < st.bytes_in_use)
                    finding("inconsistent counters", "kiln_memory_stats_get");
            }
            break;
        }
        case 3: {
            Call c(s, "kiln_empty_cache");
            c.check(kiln_empty_cache(pick_context(s, c)));
            break;
        }
        case 4: {
            Call c(s, "kiln_set_memory_limit");
            kiln_context* ctx = pick_context(s, c);
            const uint8_t k = s.in.u8();
            const uint64_t bytes = k < 64 ? 0 : k < 192 ? (uint64_t)(s.in.u8() + 1) << (s.in.u8() % 24) : s.in.u64();
            const kiln_status st = kiln_set_memory_limit(ctx, bytes);
            c.check(st);
            if (st == KILN_OK) s.limit[live_index(s, ctx)] = bytes;
            break;
        }
        case 5: {  // copies: on the CPU all three are host memmoves
            static const char* const kNames[] = {"kiln_copy_to_device", "kiln_copy_to_host", "kiln_copy_device"};
            const int which = s.in.u8() % 3;
            Call c(s, kNames[which]);
            kiln_context* ctx = pick_context(s, c);
            int64_t bytes = s.in.size();
            c.need(bytes < 0 ? kHuge : bytes, 1);  // dst
            c.need(bytes < 0 ? kHuge : bytes, 1);  // src
            if (!c.runnable()) return;
            // kiln.h's names: (dst, host_src), (host_dst, src), (dst, src).
            char* dst = c.out<char>(which == 1 ? "host_dst" : "dst", bytes);
            const char* src_name = which == 0 ? "host_src" : "src";
            const char* src = s.in.one_in(6) ? c.given(src_name, Use::in, dst, bytes) : c.in<char>(src_name, bytes);
            c.call(which == 0 ? kiln_copy_to_device : which == 1 ? kiln_copy_to_host : kiln_copy_device, ctx, dst, src,
                   (size_t)bytes);
            break;
        }
    }
}

// fill and the Philox streams: y (n) with n a size_t.
void call_fill_random(State& s) {
    static const char* const kNames[] = {"kiln_fill_f32", "kiln_rand_uniform_f32", "kiln_rand_normal_f32"};
    const int which = s.in.u8() % 3;
    Call c(s, kNames[which]);
    kiln_context* ctx = pick_context(s, c);
    const uint64_t n = (uint64_t)s.in.size();  // negative sizes become huge size_t values
    c.need(n > (uint64_t)INT64_MAX ? kHuge : (int64_t)n, 4);
    c.work({(int64_t)std::min<uint64_t>(n, (uint64_t)kHuge)});
    const float a = s.in.real(), b = s.in.real();
    const uint64_t seed = s.in.u64(), offset = s.in.one_in(2) ? s.in.u64() : 0;
    if (which == 1 && !(a < b && std::isfinite(b - a))) c.forbid();
    if (which == 2 && !(b >= 0.0f && std::isfinite(a) && std::isfinite(b))) c.forbid();
    if (!c.runnable()) return;
    float* y = c.out<float>("y", (int64_t)std::min<uint64_t>(n, (uint64_t)kHuge));
    if (which == 0) c.call(kiln_fill_f32, ctx, y, n, a);
    else if (which == 1) c.call(kiln_rand_uniform_f32, ctx, y, n, seed, offset, a, b);
    else c.call(kiln_rand_normal_f32, ctx, y, n, seed, offset, a, b);
}

}  // namespace kiln::fuzz

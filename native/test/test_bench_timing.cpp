// Tests of the benchmark entries kiln_stream_timer_start / _stop and kiln_flush_l2. Everywhere: on a CPU context the
// timer is KILN_ERR_UNSUPPORTED with a message and the flush a no-op returning KILN_OK, and all three are refused
// during a CUDA graph capture (a CPU context marked as capturing, as test_graph does). On a GPU: a known sequence of
// fills timed with the events, and the flush buffer (at least twice the L2, one live allocation until
// kiln_empty_cache). Without a CUDA device the GPU half is skipped visibly: the test exits 77 (ctest: skipped) after
// the CPU half passed.
#include <cstdint>
#include <cstdio>

#include "check.h"
#include "core/context.h"
#include "core/gpu.h"
#include "kiln/kiln.h"

using kiln::test::message_has;

#define OK(call) EXPECT((call) == KILN_OK)

namespace {

void cpu_half() {
    kiln_context* cpu = nullptr;
    OK(kiln_context_create(KILN_DEVICE_CPU, 0, &cpu));
    EXPECT(kiln_stream_timer_start(cpu) == KILN_ERR_UNSUPPORTED);
    EXPECT(message_has("kiln_stream_timer_start") && message_has("wall time"));
    double ms = -1.0;
    EXPECT(kiln_stream_timer_stop(cpu, &ms) == KILN_ERR_UNSUPPORTED && ms == 0.0);
    EXPECT(message_has("kiln_stream_timer_stop") && message_has("wall time"));
    EXPECT(kiln_stream_timer_stop(cpu, nullptr) == KILN_ERR_INVALID_ARGUMENT && message_has("'ms' is null"));
    uint64_t bytes = 7;
    OK(kiln_flush_l2(cpu, &bytes));
    EXPECT(bytes == 0);
    OK(kiln_flush_l2(cpu, nullptr));
    kiln_memory_stats stats{};
    OK(kiln_memory_stats_get(cpu, &stats));
    EXPECT(stats.total_allocations == 0);  // the CPU's flush allocates nothing
    EXPECT(kiln_flush_l2(nullptr, &bytes) == KILN_ERR_INVALID_ARGUMENT && message_has("'ctx' is null"));
    EXPECT(kiln_stream_timer_start(nullptr) == KILN_ERR_INVALID_ARGUMENT);

    // Refused while the context captures (the flag set by hand: the checks read only it).
    kiln_context& c = *cpu;
    c.capture_thread = std::this_thread::get_id();
    c.capturing.store(true);
    EXPECT(kiln_stream_timer_start(cpu) == KILN_ERR_UNSUPPORTED && message_has("kiln_stream_timer_start") &&
           message_has("CUDA graph capture cannot contain"));
    EXPECT(kiln_stream_timer_stop(cpu, &ms) == KILN_ERR_UNSUPPORTED && message_has("kiln_stream_timer_stop") &&
           message_has("CUDA graph capture cannot contain"));
    EXPECT(kiln_flush_l2(cpu, &bytes) == KILN_ERR_UNSUPPORTED && message_has("kiln_flush_l2") &&
           message_has("CUDA graph capture cannot contain"));
    c.capturing.store(false);
    c.capture_refusal.clear();
    OK(kiln_context_destroy(cpu));
}

void gpu_half() {
    kiln_context* ctx = nullptr;
    OK(kiln_context_create(KILN_DEVICE_CUDA, 0, &ctx));
    if (!ctx) return;
    double ms = -1.0;
    EXPECT(kiln_stream_timer_stop(ctx, &ms) == KILN_ERR_INVALID_ARGUMENT && message_has("kiln_stream_timer_start first"));

    // A known sequence: n fills of 64 MiB each. Device time must be positive, grow with the work, and not exceed
    // the wall time the host saw for the same stretch.
    const size_t n = size_t(16) << 20;
    float* buf = nullptr;
    OK(kiln_alloc(ctx, n * sizeof(float), reinterpret_cast<void**>(&buf)));
    OK(kiln_fill_f32(ctx, buf, n, 1.0f));
    OK(kiln_synchronize(ctx));
    double one = 0.0, ten = 0.0;
    OK(kiln_stream_timer_start(ctx));
    OK(kiln_fill_f32(ctx, buf, n, 2.0f));
    OK(kiln_stream_timer_stop(ctx, &one));
    OK(kiln_stream_timer_start(ctx));
    for (int i = 0; i < 10; ++i) OK(kiln_fill_f32(ctx, buf, n, float(i)));
    OK(kiln_stream_timer_stop(ctx, &ten));
    std::printf("  64 MiB fill: %.4f ms once, %.4f ms ten times\n", one, ten);
    EXPECT(one > 0.0 && ten > 5.0 * one);
    EXPECT(kiln_stream_timer_stop(ctx, &ms) == KILN_ERR_INVALID_ARGUMENT);  // the stretch is closed

    // The flush buffer: >= 2 x L2, allocated once and reused, a live block until kiln_empty_cache.
    const size_t l2 = kiln::gpu::l2_cache_bytes(0);
    kiln_memory_stats before{}, after{};
    OK(kiln_memory_stats_get(ctx, &before));
    uint64_t bytes = 0, again = 0;
    OK(kiln_flush_l2(ctx, &bytes));
    OK(kiln_flush_l2(ctx, &again));
    std::printf("  L2 %zu bytes, flush buffer %llu bytes\n", l2, (unsigned long long)bytes);
    EXPECT(l2 > 0 && bytes >= 2 * l2 && again == bytes);
    OK(kiln_memory_stats_get(ctx, &after));
    EXPECT(after.live_allocations == before.live_allocations + 1);
    EXPECT(after.bytes_in_use >= before.bytes_in_use + bytes);
    // A flush timed alone writes 2 x L2 bytes: it takes device time.
    double flush_ms = 0.0;
    OK(kiln_stream_timer_start(ctx));
    OK(kiln_flush_l2(ctx, nullptr));
    OK(kiln_stream_timer_stop(ctx, &flush_ms));
    EXPECT(flush_ms > 0.0);
    OK(kiln_free(ctx, buf));
    OK(kiln_empty_cache(ctx));
    OK(kiln_memory_stats_get(ctx, &after));
    EXPECT(after.live_allocations == before.live_allocations - 1 && after.bytes_reserved == 0);
    OK(kiln_context_destroy(ctx));
}

}  // namespace

int main() {
    cpu_half();
    int32_t devices = 0;
    const char* reason = "";
    kiln_cuda_device_count(&devices, &reason);
    if (devices == 0) {
        const int rc = kiln::test::finish("test_bench_timing (CPU half)");
        std::printf("SKIPPED: the GPU half (event timing, L2 flush): no CUDA device (%s)\n", reason);
        return rc != 0 ? rc : 77;
    }
    gpu_half();
    return kiln::test::finish("test_bench_timing");
}

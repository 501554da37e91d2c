// Benchmark of the CPU sampling family (reparameterize and the Gaussian KL, forward and backward) as memory-bound
// kernels: GB/s of the bytes each must move, against the machine's copy bandwidth measured in the same run (the better
// of memcpy and Kiln's own parallel y = 1 * x), at the VAE's shape (128, 20) and at a 16M-element shape far past the
// caches. Median of several runs after warm-up. Usage: sampling_cpu_bench [runs]. Threads: KILN_NUM_THREADS.
// Prints one `RESULT sampling <op> <n> <ms> <GB/s> <fraction of copy>` line per measurement.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench_shapes.h"
#include "bench_timing.h"
#include "kiln/kiln.h"

namespace {

using kiln::bench::load_average;
using kiln::bench::median_ms;

using kiln::bench::check;

}  // namespace

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::atoi(argv[1]) : 21;
    kiln_context* ctx = nullptr;
    check(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx), "context");
    std::printf("sampling kernels on the CPU, median of %d runs, load average %.2f\n", runs, load_average());
    std::printf("| n | op | ms | GB/s | of copy |\n|---|---|---|---|---|\n");
    for (int64_t n : {int64_t(128 * 20), int64_t(1) << 24}) {
        const std::vector<float> mu = kiln::bench::uniform((size_t)n, 1, -2, 2), lv = kiln::bench::uniform((size_t)n, 2, -3, 2);
        const std::vector<float> dz = kiln::bench::uniform((size_t)n, 3, -1, 1);
        std::vector<float> a((size_t)n), b((size_t)n);
        float loss = 0, dloss = 1;
        const double bytes = 4.0 * (double)n;
        // Copy bandwidth: read n floats and write n floats, the best of two ways of doing only that.
        const double memcpy_ms = median_ms(runs, [&] { std::memcpy(a.data(), mu.data(), (size_t)n * 4); });
        const double scale_ms = median_ms(runs, [&] { check(kiln_scale_f32(ctx, mu.data(), a.data(), n, 1.0f), "scale"); });
        const double copy_gbs = 2 * bytes / std::min(memcpy_ms, scale_ms) / 1e6;
        std::printf("| %lld | copy (memcpy %.3f ms, kiln scale %.3f ms) | %.3f | %.1f | 1.00 |\n", (long long)n, memcpy_ms,
                    scale_ms, std::min(memcpy_ms, scale_ms), copy_gbs);
        struct Op {
            const char* name;
            double streams;  // arrays of n floats read or written
            double ms;
        } ops[] = {
            {"reparameterize", 3, median_ms(runs, [&] {
                 check(kiln_reparameterize_f32(ctx, mu.data(), lv.data(), a.data(), n, 7, 0), "reparameterize");
             })},
            {"reparameterize_backward", 4, median_ms(runs, [&] {
                 check(kiln_reparameterize_backward_f32(ctx, lv.data(), dz.data(), a.data(), b.data(), n, 7, 0), "backward");
             })},
            {"gaussian_kl", 2, median_ms(runs, [&] {
                 check(kiln_gaussian_kl_f32(ctx, mu.data(), lv.data(), &loss, n / 20, 20), "kl");
             })},
            {"gaussian_kl_backward", 4, median_ms(runs, [&] {
                 check(kiln_gaussian_kl_backward_f32(ctx, mu.data(), lv.data(), &dloss, a.data(), b.data(), n / 20, 20),
                       "kl backward");
             })},
        };
        for (const Op& op : ops) {
            const double gbs = op.streams * bytes / op.ms / 1e6;
            std::printf("| %lld | %s | %.3f | %.1f | %.2f |\n", (long long)n, op.name, op.ms, gbs, gbs / copy_gbs);
            std::printf("RESULT sampling %s %lld %.4f %.2f %.3f\n", op.name, (long long)n, op.ms, gbs, gbs / copy_gbs);
        }
    }
    kiln_context_destroy(ctx);
    return 0;
}

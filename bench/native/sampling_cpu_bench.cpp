// Benchmark of the CPU sampling family (reparameterize and the Gaussian KL, forward and backward) as memory-bound
// kernels: GB/s of the bytes each must move, against the machine's copy bandwidth measured in the same run (the better
// of memcpy and Kiln's own parallel y = 1 * x), at the VAE's shape (128, 20) and at a 16M-element shape far past the
// caches. Each op is first checked against its formula in double; then the median of several runs after warm-up.
// Usage: sampling_cpu_bench [runs]. Threads: KILN_NUM_THREADS. Prints one `RESULT sampling <op> <n> <ms> <GB/s>
// <fraction of copy>` line per measurement.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench_reference.h"
#include "bench_shapes.h"
#include "bench_timing.h"
#include "kiln/kiln.h"

namespace {

using kiln::bench::load_average;
using kiln::bench::median_ms;

using kiln::bench::check;
using kiln::bench::close_to;
using kiln::bench::Doubles;
using Floats = std::vector<float>;

// Each op once against its formula in double before anything is timed (eps is the documented stream: element i of
// kiln_rand_normal_f32 with the same seed and offset).
bool outputs_match_formulas(kiln_context* ctx, const Floats& mu, const Floats& lv, const Floats& dz, int64_t dim) {
    const int64_t n = (int64_t)mu.size(), batch = n / dim;  // the KL sees batch * dim <= n elements
    const uint64_t seed = 7, offset = 0;
    Floats eps(n), z(n), dmu(n), dlv(n);
    check(kiln_rand_normal_f32(ctx, eps.data(), (size_t)n, seed, offset, 0.0f, 1.0f), "rand_normal");
    Doubles want_z(n), want_dlv(n), want_kdmu(batch * dim), want_kdlv(batch * dim);
    double kl = 0;
    for (int64_t i = 0; i < n; ++i) {
        const double sd = std::exp(0.5 * lv[i]);
        want_z[i] = mu[i] + sd * eps[i], want_dlv[i] = 0.5 * dz[i] * sd * eps[i];
    }
    for (int64_t i = 0; i < batch * dim; ++i) {
        kl += 1.0 + lv[i] - (double)mu[i] * mu[i] - std::exp((double)lv[i]);
        want_kdmu[i] = (double)mu[i] / batch, want_kdlv[i] = 0.5 * (std::exp((double)lv[i]) - 1.0) / batch;
    }
    const double tol = 1e-5;
    check(kiln_reparameterize_f32(ctx, mu.data(), lv.data(), z.data(), n, seed, offset), "reparameterize");
    check(kiln_reparameterize_backward_f32(ctx, lv.data(), dz.data(), dmu.data(), dlv.data(), n, seed, offset),
          "reparameterize_backward");
    bool ok = close_to("z", z.data(), want_z, tol) && close_to("dmu", dmu.data(), Doubles(dz.begin(), dz.end()), tol) &&
              close_to("dlogvar", dlv.data(), want_dlv, tol);
    float loss = 0, dloss = 1;
    check(kiln_gaussian_kl_f32(ctx, mu.data(), lv.data(), &loss, batch, dim), "gaussian_kl");
    check(kiln_gaussian_kl_backward_f32(ctx, mu.data(), lv.data(), &dloss, dmu.data(), dlv.data(), batch, dim),
          "gaussian_kl_backward");
    return ok && close_to("kl", &loss, Doubles{-kl / (2.0 * batch)}, tol) && close_to("kl dmu", dmu.data(), want_kdmu, tol) &&
           close_to("kl dlogvar", dlv.data(), want_kdlv, tol);
}

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
        if (!outputs_match_formulas(ctx, mu, lv, dz, 20)) {
            std::fprintf(stderr, "n=%lld: a result is wrong; nothing timed\n", (long long)n);
            return 1;
        }
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

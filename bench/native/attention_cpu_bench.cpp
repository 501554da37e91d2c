// Benchmark of the CPU fused attention (kiln_attention_forward_f32 / kiln_attention_backward_f32 on a CPU context) at
// (N=8, H=4, T=S=128, D=32) and (N=4, H=8, T=S=512, D=64), causal and not, forward (with lse, as training runs it) and
// forward + backward, each shape first checked against a double-precision reference: the median of several runs after
// warm-up, GFLOP/s as FlashAttention counts them (forward 4 N H T S D, backward 2.5 times that; under the causal mask
// T (T + 1) / 2 visible pairs instead of T S) and the fraction of the machine's fp32 FMA peak, measured in the same
// run. bench/compare/cpu_attention.py puts PyTorch's scaled_dot_product_attention beside it.
// Usage: attention_cpu_bench [runs]. Threads: KILN_NUM_THREADS. Prints one
// `RESULT attention <shape> <forward|forward_backward> <ms> <GFLOP/s> <fraction of peak>` line per measurement.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_reference.h"
#include "bench_shapes.h"
#include "bench_timing.h"
#include "cpu/parallel.h"
#include "kiln/kiln.h"

namespace {

using kiln::bench::load_average;
using kiln::bench::median_ms;

using kiln::bench::check;


// ---- the shapes ------------------------------------------------------------------------------------------------

struct Shape {
    int64_t n, h, t, s, d;
};
constexpr Shape kShapes[] = {{8, 4, 128, 128, 32}, {4, 8, 512, 512, 64}};

std::string shape_name(const Shape& s, bool causal) {
    char name[96];
    std::snprintf(name, sizeof name, "n%lld_h%lld_t%lld_s%lld_d%lld%s", (long long)s.n, (long long)s.h,
                  (long long)s.t, (long long)s.s, (long long)s.d, causal ? "_causal" : "");
    return name;
}

// The last head of the batch (any head would do: each is computed alone) against the double-precision loops of
// bench_reference.h: o, lse and the three gradients, before anything is timed.
bool last_head_matches_reference(const Shape& sh, const kiln_attention_desc& d, const std::vector<float>& q,
                                 const std::vector<float>& k, const std::vector<float>& v, const std::vector<float>& dout,
                                 const std::vector<float>& o, const std::vector<float>& lse, const std::vector<float>& dq,
                                 const std::vector<float>& dk, const std::vector<float>& dv) {
    const size_t head = (size_t)(sh.n * sh.h - 1), qo = head * sh.t * sh.d, ko = head * sh.s * sh.d;
    const kiln::bench::AttentionHeadRef ref = kiln::bench::attention_head_reference(
        sh.t, sh.s, sh.d, d.scale, d.causal != 0, &q[qo], &k[ko], &v[ko], &dout[qo]);
    const double tol = 2e-4;
    using kiln::bench::close_to;
    return close_to("o", &o[qo], ref.o, tol) && close_to("lse", &lse[head * sh.t], ref.lse, tol) &&
           close_to("dq", &dq[qo], ref.dq, tol) && close_to("dk", &dk[ko], ref.dk, tol) &&
           close_to("dv", &dv[ko], ref.dv, tol);
}

}  // namespace

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::atoi(argv[1]) : 21;
    const int threads = kiln::cpu::num_threads();
    kiln_context* ctx = nullptr;
    check(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx), "context");
    const double peak = kiln::bench::cpu_fma_peak_gflops();
    std::printf("attention on the CPU: %d threads, median of %d runs, load average %.2f, fp32 FMA peak %.1f GFLOP/s\n",
                threads, runs, load_average(), peak);
    std::printf("| shape | direction | ms | GFLOP/s | of FMA peak |\n|---|---|---|---|---|\n");
    for (const Shape& sh : kShapes) {
        const size_t q_elems = (size_t)(sh.n * sh.h * sh.t * sh.d), kv_elems = (size_t)(sh.n * sh.h * sh.s * sh.d);
        const std::vector<float> q = kiln::bench::uniform(q_elems, 1), k = kiln::bench::uniform(kv_elems, 2),
                                 v = kiln::bench::uniform(kv_elems, 3), dout = kiln::bench::uniform(q_elems, 4);
        std::vector<float> o(q_elems), lse((size_t)(sh.n * sh.h * sh.t)), dq(q_elems), dk(kv_elems), dv(kv_elems);
        for (bool causal : {false, true}) {
            kiln_attention_desc d{};
            d.batch = sh.n, d.heads = sh.h, d.q_len = sh.t, d.kv_len = sh.s, d.head_dim = sh.d;
            d.q_stride[0] = d.o_stride[0] = sh.h * sh.t * sh.d, d.q_stride[1] = d.o_stride[1] = sh.t * sh.d;
            d.q_stride[2] = d.o_stride[2] = sh.d;
            d.k_stride[0] = d.v_stride[0] = sh.h * sh.s * sh.d, d.k_stride[1] = d.v_stride[1] = sh.s * sh.d;
            d.k_stride[2] = d.v_stride[2] = sh.d;
            d.scale = 1.0f / std::sqrt((float)sh.d);
            d.causal = causal ? 1 : 0;
            // Visible query-key pairs only, as the GPU bench and the profiler count: t (t + 1) / 2 under the causal
            // mask of these square shapes.
            const double pairs = causal ? (double)sh.t * (double)(sh.t + 1) / 2.0 : (double)sh.t * (double)sh.s;
            const double forward_flops = 4.0 * sh.n * sh.h * pairs * sh.d;
            auto forward = [&] {
                check(kiln_attention_forward_f32(ctx, &d, q.data(), k.data(), v.data(), nullptr, o.data(), lse.data()),
                      "forward");
            };
            auto forward_backward = [&] {
                forward();
                check(kiln_attention_backward_f32(ctx, &d, q.data(), k.data(), v.data(), o.data(), dout.data(),
                                                  lse.data(), nullptr, dq.data(), dk.data(), dv.data()),
                      "backward");
            };
            forward_backward();
            if (!last_head_matches_reference(sh, d, q, k, v, dout, o, lse, dq, dk, dv)) {
                std::fprintf(stderr, "%s: the result is wrong; not timed\n", shape_name(sh, causal).c_str());
                return 1;
            }
            const struct {
                const char* direction;
                double flops, ms;
            } rows[] = {{"forward", forward_flops, median_ms(runs, forward)},
                        {"forward_backward", 3.5 * forward_flops, median_ms(runs, forward_backward)}};
            for (const auto& r : rows) {
                const double gflops = r.flops / r.ms / 1e6;
                const std::string name = shape_name(sh, causal);
                std::printf("| %s | %s | %.3f | %.1f | %.2f |\n", name.c_str(), r.direction, r.ms, gflops,
                            peak > 0 ? gflops / peak : 0.0);
                std::printf("RESULT attention %s %s %.4f %.2f %.3f\n", name.c_str(), r.direction, r.ms, gflops,
                            peak > 0 ? gflops / peak : 0.0);
            }
        }
    }
    kiln_context_destroy(ctx);
    return 0;
}

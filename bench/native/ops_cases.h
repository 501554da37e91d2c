// The op benchmark's cases (harness: ops_bench.h): one table over the op families with no GPU bench of their own
// (conv2d, LSTM and attention have theirs). Memory-bound cases have 64 MiB operands (16M floats), past the L2 of an
// A100, H100 or H200 (40-50 MB), so back-to-back calls stream from memory and their GB/s compares with the copy peak.
// Tolerances follow native/test/parity: 0 where both backends run the same IEEE-exact operations, else the smallest
// that covers the documented difference (libm ulps, summation order).
#pragma once

#include <cstdint>
#include <vector>

#include "bench_shapes.h"
#include "ops_bench.h"

namespace kiln::bench::ops {

constexpr int64_t kN = int64_t(1) << 24;          // elements of a 1-D case: 64 MiB of fp32
constexpr int64_t kRows = 16384, kCols = 1024;    // a 2-D case of kN elements
constexpr double kF = 4.0;                        // bytes per fp32 / int32 element

inline const Tolerance kExact{0, "same IEEE-exact fp32 operations on both backends"};
inline const Tolerance kUlps{1e-6, "expf/tanhf/erfcf of CUDA and of the host's libm differ by a few ulps"};
inline const Tolerance kSums{1e-5, "sums in another order: fp32 trees on the GPU, double or fp32 blocks on the CPU"};

// Deterministic int32 values in [0, range).
inline std::vector<int32_t> ints(size_t n, int32_t range, uint64_t seed) {
    const std::vector<float> u = uniform(n, seed, 0.0f, 1.0f);
    std::vector<int32_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = std::min(range - 1, (int32_t)(u[i] * range));
    return v;
}

// One plain (batch 1) or batched GEMM, C = op(A) op(B) with alpha 1, beta 0; 2 m n k flops per matrix.
inline Case gemm_case(const char* name, const char* shape, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                      int64_t batch = 1) {
    return {"gemm", name, shape, gflop(2.0 * m * n * k * batch),
            {1e-5, "fp32 dot products of k terms summed in another order (tiles on the GPU, panels on the CPU)"},
            [=](Tensors& t) -> Run {
                kiln_gemm_desc d{};
                d.trans_a = ta, d.trans_b = tb, d.m = m, d.n = n, d.k = k;
                d.lda = ta ? m : k, d.ldb = tb ? k : n, d.ldc = n;
                d.batch = batch, d.stride_a = m * k, d.stride_b = k * n, d.stride_c = m * n;
                d.alpha = 1.0f, d.beta = 0.0f;
                const float* a = t.in(uniform(m * k * batch, 1));
                const float* b = t.in(uniform(k * n * batch, 2));
                float* c = t.out(m * n * batch);
                return [=](kiln_context* ctx) { return kiln_gemm_f32(ctx, &d, a, b, c); };
            }};
}

inline Case binary_case(const char* name, const char* shape, kiln_binary_op op, bool broadcast_b) {
    const int64_t outer = broadcast_b ? 4096 : 1, inner = kN / outer;
    return {"elementwise", name, shape, gbyte(kF * (broadcast_b ? 2 * kN + inner : 3 * kN)), kExact,
            [=](Tensors& t) -> Run {
                const float* a = t.in(uniform(kN, 3));
                const float* b = t.in(uniform(broadcast_b ? inner : kN, 4, 0.5f, 1.5f));
                float* y = t.out(kN);
                const int64_t sb = broadcast_b ? 0 : inner;
                return [=](kiln_context* c) { return kiln_binary_f32(c, op, a, inner, b, sb, y, outer, inner); };
            }};
}

inline Case activation_case(const char* name, kiln_activation act, const Tolerance& tol) {
    return {"elementwise", name, "(16777216)", gbyte(kF * 2 * kN), tol, [=](Tensors& t) -> Run {
                const float* x = t.in(uniform(kN, 5, -4.0f, 4.0f));
                float* y = t.out(kN);
                return [=](kiln_context* c) { return kiln_activation_f32(c, act, x, y, kN, 0.01f); };
            }};
}

// Runs a forward and its backward as one call (a training step pays for both).
template <class F, class B>
kiln_status both(F&& fwd, B&& bwd) {
    const kiln_status s = fwd();
    return s != KILN_OK ? s : bwd();
}

inline std::vector<Case> op_cases() {
    const int64_t N = kN, R = kRows, C = kCols;
    std::vector<Case> cases = {
        // ---- gemm: the MLP's layer (forward, weight gradient, input gradient), attention's scores, a square one
        gemm_case("mlp_fwd_64x784x256", "(64,784)x(256,784)^T", false, true, 64, 256, 784),
        gemm_case("mlp_dw_256x784x64", "(64,256)^Tx(64,784)", true, false, 256, 784, 64),
        gemm_case("mlp_dx_64x784x256", "(64,256)x(256,784)", false, false, 64, 784, 256),
        gemm_case("batched_64x128x128x64", "64 x (128,64)x(128,64)^T", false, true, 128, 128, 64, 64),
        gemm_case("square_2048", "(2048,2048)x(2048,2048)", false, false, 2048, 2048, 2048),

        // ---- elementwise
        binary_case("add_16M", "(16777216)+(16777216)", KILN_ADD, false),
        binary_case("mul_16M", "(16777216)*(16777216)", KILN_MUL, false),
        binary_case("add_bcast_4096x4096", "(4096,4096)+(4096)", KILN_ADD, true),
        activation_case("relu_16M", KILN_RELU, kExact),
        activation_case("gelu_16M", KILN_GELU, kUlps),
        activation_case("sigmoid_16M", KILN_SIGMOID, kUlps),
        activation_case("tanh_16M", KILN_TANH, kUlps),
        {"elementwise", "gelu_bwd_16M", "(16777216)", gbyte(kF * 3 * N), kUlps,
         [=](Tensors& t) -> Run {
             const float *x = t.in(uniform(N, 6, -4.0f, 4.0f)), *dy = t.in(uniform(N, 7));
             float* dx = t.out(N);
             return [=](kiln_context* c) { return kiln_activation_backward_f32(c, KILN_GELU, x, x, dy, dx, N, 0); };
         }},
        {"elementwise", "bias_gelu_16384x1024", "(16384,1024)+(1024)", gbyte(kF * (2 * N + C)), kUlps,
         [=](Tensors& t) -> Run {
             const float *x = t.in(uniform(N, 8, -3.0f, 3.0f)), *b = t.in(uniform(C, 9));
             float* y = t.out(N);
             return [=](kiln_context* c) { return kiln_bias_gelu_f32(c, x, b, y, R, C); };
         }},
        {"elementwise", "axpy_16M", "y += a x, (16777216)", gbyte(kF * 3 * N), kExact,
         [=](Tensors& t) -> Run {
             const float* x = t.in(uniform(N, 10));
             float* y = t.inout(uniform(N, 11));
             return [=](kiln_context* c) { return kiln_axpy_f32(c, N, 1e-3f, x, y); };
         }},

        // ---- reductions and softmax (sums over [0, 1) inputs: well conditioned, so the order shows only in ulps)
        {"reductions", "sum_16M", "(16777216) -> (1)", gbyte(kF * N), kSums,
         [=](Tensors& t) -> Run {
             const float* x = t.in(uniform(N, 12, 0.0f, 1.0f));
             float* y = t.out(1);
             return [=](kiln_context* c) { return kiln_reduce_sum_f32(c, x, y, 1, N, 1, 1.0f); };
         }},
        {"reductions", "rowsum_4096x4096", "(4096,4096) -> (4096)", gbyte(kF * N), kSums,
         [=](Tensors& t) -> Run {
             const float* x = t.in(uniform(N, 13, 0.0f, 1.0f));
             float* y = t.out(4096);
             return [=](kiln_context* c) { return kiln_reduce_sum_f32(c, x, y, 4096, 4096, 1, 1.0f); };
         }},
        {"reductions", "colsum_4096x4096", "(4096,4096) -> (4096)", gbyte(kF * N), kSums,
         [=](Tensors& t) -> Run {
             const float* x = t.in(uniform(N, 14, 0.0f, 1.0f));
             float* y = t.out(4096);
             return [=](kiln_context* c) { return kiln_reduce_sum_f32(c, x, y, 1, 4096, 4096, 1.0f); };
         }},
        {"reductions", "max_16384x1024", "(16384,1024) -> (16384)", gbyte(kF * (N + 2 * R)), kExact,
         [=](Tensors& t) -> Run {
             const float* x = t.in(uniform(N, 15));
             float* y = t.out(R);
             int32_t* index = t.out_i32(R);
             return [=](kiln_context* c) { return kiln_max_lastdim_f32(c, x, y, index, R, C); };
         }},
        {"reductions", "softmax_16384x1024", "rows of (16384,1024)", gbyte(kF * 2 * N), kSums,
         [=](Tensors& t) -> Run {
             const float* x = t.in(uniform(N, 16, -4.0f, 4.0f));
             float* y = t.out(N);
             return [=](kiln_context* c) { return kiln_softmax_f32(c, x, y, R, C, 0); };
         }},
        {"reductions", "softmax_bwd_16384x1024", "rows of (16384,1024)", gbyte(kF * 3 * N), kSums,
         [=](Tensors& t) -> Run {
             const float *y = t.in(uniform(N, 17, 0.0f, 2.0f / C)), *dy = t.in(uniform(N, 18));
             float* dx = t.out(N);
             return [=](kiln_context* c) { return kiln_softmax_backward_f32(c, y, dy, dx, R, C, 0); };
         }},

        // ---- losses, forward and backward (each loss is a one-element device buffer; dloss = 1)
        {"losses", "xent_16384x1024", "logits (16384,1024)", gbyte(kF * (3 * N + 4 * R)), kSums,
         [=](Tensors& t) -> Run {
             const float *x = t.in(uniform(N, 19, -4.0f, 4.0f)), *dloss = t.in({1.0f});
             const int32_t* labels = t.in_i32(ints(R, (int32_t)C, 20));
             float *loss = t.out(1), *lse = t.out(R), *dx = t.out(N);
             return [=](kiln_context* c) {
                 return both([&] { return kiln_cross_entropy_f32(c, x, labels, loss, lse, R, C); },
                             [&] { return kiln_cross_entropy_backward_f32(c, x, labels, lse, dloss, dx, R, C); });
             };
         }},
        {"losses", "bce_logits_16M", "x, t (16777216)", gbyte(kF * 5 * N), kSums,
         [=](Tensors& t) -> Run {
             const float *x = t.in(uniform(N, 21, -4.0f, 4.0f)), *tg = t.in(uniform(N, 22, 0.0f, 1.0f));
             const float* dloss = t.in({1.0f});
             float *loss = t.out(1), *dx = t.out(N);
             return [=](kiln_context* c) {
                 return both([&] { return kiln_bce_with_logits_f32(c, x, tg, loss, N); },
                             [&] { return kiln_bce_with_logits_backward_f32(c, x, tg, dloss, dx, N); });
             };
         }},
        {"losses", "mse_16M", "x, t (16777216)", gbyte(kF * 5 * N), kSums,
         [=](Tensors& t) -> Run {
             const float *x = t.in(uniform(N, 23)), *tg = t.in(uniform(N, 24)), *dloss = t.in({1.0f});
             float *loss = t.out(1), *dx = t.out(N);
             return [=](kiln_context* c) {
                 return both([&] { return kiln_mse_f32(c, x, tg, loss, N); },
                             [&] { return kiln_mse_backward_f32(c, x, tg, dloss, dx, N); });
             };
         }},

        // ---- optimizers: one step over 16M parameters (the state carries on while timing; only the first is checked)
        {"optimizers", "sgd_momentum_16M", "p, g, velocity (16777216)", gbyte(kF * 5 * N), kExact,
         [=](Tensors& t) -> Run {
             float *p = t.inout(uniform(N, 25)), *v = t.inout(uniform(N, 26, -0.1f, 0.1f));
             const float* g = t.in(uniform(N, 27));
             return [=](kiln_context* c) { return kiln_sgd_step_f32(c, p, g, v, N, 0.01f, 0.9f, 1e-4f, 0); };
         }},
        {"optimizers", "adamw_16M", "p, g, m, v (16777216)", gbyte(kF * 7 * N), kExact,
         [=](Tensors& t) -> Run {
             float *p = t.inout(uniform(N, 28)), *m = t.inout(uniform(N, 29, -0.1f, 0.1f));
             float* v = t.inout(uniform(N, 30, 0.0f, 0.01f));
             const float* g = t.in(uniform(N, 31));
             return [=](kiln_context* c) {
                 return kiln_adam_step_f32(c, p, g, m, v, N, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1, 0.6513216f,
                                           0.009955120f);  // bias corrections at step 10
             };
         }},

        // ---- pooling over (64, 64, 64, 64): the backends share the window math and its order
        {"pooling", "maxpool2x2_fwd_bwd", "(64,64,64,64) k2 s2", gbyte(kF * 3 * N), kExact,
         [=](Tensors& t) -> Run {
             const kiln_pool2d_desc d{64, 64, 64, 64, 2, 2, 2, 2, 0, 0, 32, 32};
             const float *x = t.in(uniform(N, 32)), *dy = t.in(uniform(N / 4, 33));
             float* y = t.out(N / 4);
             int32_t* index = t.out_i32(N / 4);
             float* dx = t.out(N);
             return [=](kiln_context* c) {
                 return both([&] { return kiln_max_pool2d_f32(c, &d, x, y, index); },
                             [&] { return kiln_max_pool2d_backward_f32(c, &d, dy, index, dx); });
             };
         }},
        {"pooling", "avgpool3x3_p1", "(64,64,64,64) k3 s1 p1", gbyte(kF * 2 * N), kExact,
         [=](Tensors& t) -> Run {
             const kiln_pool2d_desc d{64, 64, 64, 64, 3, 3, 1, 1, 1, 1, 64, 64};
             const float* x = t.in(uniform(N, 34));
             float* y = t.out(N);
             return [=](kiln_context* c) { return kiln_avg_pool2d_f32(c, &d, x, y, 0); };
         }},

        // ---- batch norm over (64, 64, 64x64)
        {"batch_norm", "train_fwd_bwd", "(64,64,4096)", gbyte(kF * 5 * N), kSums,
         [=](Tensors& t) -> Run {
             const int64_t n = 64, ch = 64, hw = 4096;
             const float *x = t.in(uniform(N, 35, -2.0f, 3.0f)), *dy = t.in(uniform(N, 36));
             const float *gamma = t.in(uniform(ch, 37, 0.5f, 1.5f)), *beta = t.in(uniform(ch, 38));
             float *rmean = t.inout(uniform(ch, 39)), *rvar = t.inout(uniform(ch, 40, 0.5f, 1.5f));
             float *y = t.out(N), *mean = t.out(ch), *invstd = t.out(ch);
             float *dx = t.out(N), *dgamma = t.out(ch), *dbeta = t.out(ch);
             return [=](kiln_context* c) {
                 return both(
                     [&] {
                         return kiln_batch_norm_train_f32(c, n, ch, hw, x, gamma, beta, y, mean, invstd, rmean, rvar,
                                                          0.1f, 1e-5f);
                     },
                     [&] {
                         return kiln_batch_norm_backward_f32(c, n, ch, hw, x, dy, gamma, mean, invstd, dx, dgamma,
                                                             dbeta);
                     });
             };
         }},
        {"batch_norm", "eval", "(64,64,4096)", gbyte(kF * 2 * N), kExact,
         [=](Tensors& t) -> Run {
             const float *x = t.in(uniform(N, 41)), *gamma = t.in(uniform(64, 42)), *beta = t.in(uniform(64, 43));
             const float *rmean = t.in(uniform(64, 44)), *rvar = t.in(uniform(64, 45, 0.5f, 1.5f));
             float* y = t.out(N);
             return [=](kiln_context* c) {
                 return kiln_batch_norm_eval_f32(c, 64, 64, 4096, x, gamma, beta, rmean, rvar, 1e-5f, y);
             };
         }},

        // ---- layer norm over rows of (16384, 1024)
        {"layer_norm", "fwd_bwd_16384x1024", "rows of (16384,1024)", gbyte(kF * 5 * N), kSums,
         [=](Tensors& t) -> Run {
             const float *x = t.in(uniform(N, 46, -2.0f, 3.0f)), *dy = t.in(uniform(N, 47));
             const float *gamma = t.in(uniform(C, 48, 0.5f, 1.5f)), *beta = t.in(uniform(C, 49));
             float *y = t.out(N), *mean = t.out(R), *rstd = t.out(R);
             float *dx = t.out(N), *dgamma = t.out(C), *dbeta = t.out(C);
             return [=](kiln_context* c) {
                 return both([&] { return kiln_layer_norm_f32(c, x, gamma, beta, y, mean, rstd, R, C, 1e-5f); },
                             [&] {
                                 return kiln_layer_norm_backward_f32(c, x, dy, gamma, mean, rstd, dx, dgamma, dbeta, R,
                                                                     C);
                             });
             };
         }},

        // ---- embedding: 65536 tokens of a 32768 x 256 table (the backward adds rows in increasing position on both)
        {"embedding", "lookup_65536x256", "vocab 32768, dim 256", gbyte(kF * (65536 + 2 * N)), kExact,
         [=](Tensors& t) -> Run {
             const int32_t* idx = t.in_i32(ints(65536, 32768, 50));
             const float* w = t.in(uniform(32768 * 256, 51));
             float* y = t.out(N);
             return [=](kiln_context* c) { return kiln_embedding_f32(c, idx, w, y, 65536, 32768, 256); };
         }},
        {"embedding", "backward_65536x256", "vocab 32768, dim 256", gbyte(kF * (65536 + N + 32768 * 256)), kExact,
         [=](Tensors& t) -> Run {
             const int32_t* idx = t.in_i32(ints(65536, 32768, 52));
             const float* dy = t.in(uniform(N, 53));
             float* dw = t.out(32768 * 256);
             return [=](kiln_context* c) { return kiln_embedding_backward_f32(c, idx, dy, dw, 65536, 32768, 256); };
         }},

        // ---- sampling: the VAE's reparameterization (same Philox stream, same fp32 math) and its KL term
        {"sampling", "reparam_fwd_bwd_16M", "mu, logvar (16777216)", gbyte(kF * 7 * N), kExact,
         [=](Tensors& t) -> Run {
             const float *mu = t.in(uniform(N, 54)), *logvar = t.in(uniform(N, 55, -3.0f, 1.0f));
             const float* dz = t.in(uniform(N, 56));
             float *z = t.out(N), *dmu = t.out(N), *dlogvar = t.out(N);
             return [=](kiln_context* c) {
                 return both([&] { return kiln_reparameterize_f32(c, mu, logvar, z, N, 1234567, 99); },
                             [&] {
                                 return kiln_reparameterize_backward_f32(c, logvar, dz, dmu, dlogvar, N, 1234567, 99);
                             });
             };
         }},
        {"sampling", "kl_fwd_bwd_16384x1024", "mu, logvar (16384,1024)", gbyte(kF * 6 * N), kSums,
         [=](Tensors& t) -> Run {
             const float *mu = t.in(uniform(N, 57)), *logvar = t.in(uniform(N, 58, -3.0f, 1.0f));
             const float* dloss = t.in({1.0f});
             float *loss = t.out(1), *dmu = t.out(N), *dlogvar = t.out(N);
             return [=](kiln_context* c) {
                 return both([&] { return kiln_gaussian_kl_f32(c, mu, logvar, loss, R, C); },
                             [&] { return kiln_gaussian_kl_backward_f32(c, mu, logvar, dloss, dmu, dlogvar, R, C); });
             };
         }},

        // ---- transpose: the tiled path (single floats) and the run path (the attention heads' exchange)
        {"transpose", "transpose_16384x1024", "x (16384,1024) to (1024,16384)", gbyte(kF * 2 * N), kExact,
         [=](Tensors& t) -> Run {
             const float* x = t.in(uniform(N, 59));
             float* y = t.out(N);
             return [=](kiln_context* c) { return kiln_transpose_f32(c, x, y, 1, R, 1, C, 1); };
         }},
        {"transpose", "transpose_heads_64x512x8x64", "(N,T,H,D) (64,512,8,64) to (N,H,T,D)", gbyte(kF * 2 * N), kExact,
         [=](Tensors& t) -> Run {
             const float* x = t.in(uniform(N, 60));
             float* y = t.out(N);
             return [=](kiln_context* c) { return kiln_transpose_f32(c, x, y, 64, 512, 1, 8, 64); };
         }},
    };
    return cases;
}

}  // namespace kiln::bench::ops

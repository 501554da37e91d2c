// Parity cases for the losses, forward and backward: cross entropy (warp and block rows, invalid labels), BCE with
// logits and MSE (float4 and misaligned single-block means). Loss and dloss are 1-element device buffers. Tolerances:
// 1e-10 normalized MSE where exp/log or the summation order differ, 0 for MSE's backward (the same fp32 operations).
#include <algorithm>
#include <cmath>

#include "parity/harness.h"

namespace kiln::parity {
namespace {

constexpr double kTol = 1e-10;

std::string dims(int64_t a, int64_t b) { return "(" + std::to_string(a) + "," + std::to_string(b) + ")"; }

std::vector<int32_t> host_labels(int64_t rows, int64_t cols, uint32_t seed) {
    const std::vector<float> u = host_uniform((size_t)rows, seed, 0.0f, 1.0f);
    std::vector<int32_t> l((size_t)rows);
    for (int64_t r = 0; r < rows; ++r) l[r] = std::min<int32_t>((int32_t)(u[r] * (float)cols), (int32_t)(cols - 1));
    return l;
}

std::vector<float> host_lse(const std::vector<float>& x, int64_t rows, int64_t cols) {
    std::vector<float> lse((size_t)rows);
    for (int64_t r = 0; r < rows; ++r) {
        double m = -INFINITY, s = 0;
        for (int64_t c = 0; c < cols; ++c) m = std::fmax(m, x[r * cols + c]);
        for (int64_t c = 0; c < cols; ++c) s += std::exp(x[r * cols + c] - m);
        lse[r] = (float)(m + std::log(s));
    }
    return lse;
}

void add_cross_entropy(std::vector<OpCase>& cases, int64_t rows, int64_t cols, const std::vector<int32_t>& labels,
                       const std::string& tag) {
    const std::vector<float> x = host_uniform((size_t)(rows * cols), (uint32_t)(rows * 1000 + cols), -4.0f, 4.0f);
    const std::string shape = dims(rows, cols) + tag;
    cases.push_back({"cross_entropy", shape, kTol, {in_f32(x), in_i32(labels), out_f32(1), out_f32((size_t)rows)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_cross_entropy_f32(ctx, (const float*)p[0], (const int32_t*)p[1], (float*)p[2],
                                                       (float*)p[3], rows, cols);
                     }});
    cases.push_back({"cross_entropy_backward", shape, kTol,
                     {in_f32(x), in_i32(labels), in_f32(host_lse(x, rows, cols)), in_f32({0.75f}),
                      out_f32((size_t)(rows * cols))},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_cross_entropy_backward_f32(ctx, (const float*)p[0], (const int32_t*)p[1],
                                                                (const float*)p[2], (const float*)p[3], (float*)p[4],
                                                                rows, cols);
                     }});
}

// x_off / t_off: start x and t that many floats into their buffers (1 = misaligned for float4). Offsets 0 take the
// float4 loads, any other the scalar ones (the same chunks of four elements, so the same sum).
void add_pointwise(std::vector<OpCase>& cases, int64_t n, int x_off, int t_off) {
    std::string shape = "n=" + std::to_string(n);
    if (x_off || t_off) shape += " x+" + std::to_string(x_off) + " t+" + std::to_string(t_off);
    const std::vector<float> x = host_uniform((size_t)(n + x_off), (uint32_t)n, -8.0f, 8.0f);
    const std::vector<float> t = host_uniform((size_t)(n + t_off), (uint32_t)n + 1, 0.0f, 1.0f);
    cases.push_back({"bce_with_logits", shape, kTol, {in_f32(x), in_f32(t), out_f32(1)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_bce_with_logits_f32(ctx, (const float*)p[0] + x_off, (const float*)p[1] + t_off,
                                                         (float*)p[2], n);
                     }});
    cases.push_back({"mse", shape, kTol, {in_f32(x), in_f32(t), out_f32(1)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_mse_f32(ctx, (const float*)p[0] + x_off, (const float*)p[1] + t_off, (float*)p[2],
                                             n);
                     }});
    // The gradients go to dx at x's offset: a misaligned operand sends the chunked kernels down their scalar path.
    const size_t nx = (size_t)(n + x_off);
    cases.push_back({"bce_with_logits_backward", shape, kTol, {in_f32(x), in_f32(t), in_f32({1.25f}), out_f32(nx)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_bce_with_logits_backward_f32(ctx, (const float*)p[0] + x_off,
                                                                  (const float*)p[1] + t_off, (const float*)p[2],
                                                                  (float*)p[3] + x_off, n);
                     }});
    cases.push_back({"mse_backward", shape, 0.0, {in_f32(x), in_f32(t), in_f32({1.25f}), out_f32(nx)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_mse_backward_f32(ctx, (const float*)p[0] + x_off, (const float*)p[1] + t_off,
                                                      (const float*)p[2], (float*)p[3] + x_off, n);
                     }});
}

// BCE at infinite logits, one (x, t) pair per case so that the mean is the term itself: the limit (0 or inf; NaN
// before the shared term handled it) and the gradient sigmoid(x) - t.
void add_bce_infinite(std::vector<OpCase>& cases) {
    for (float x : {INFINITY, -INFINITY})
        for (float t : {0.0f, 0.25f, 1.0f}) {
            const std::string shape = std::string("x=") + (x > 0 ? "+inf" : "-inf") + " t=" + std::to_string(t);
            cases.push_back({"bce_with_logits", shape, 0.0, {in_f32({x}), in_f32({t}), out_f32(1)},
                             [](kiln_context* ctx, const std::vector<void*>& p) {
                                 return kiln_bce_with_logits_f32(ctx, (const float*)p[0], (const float*)p[1],
                                                                 (float*)p[2], 1);
                             }});
            cases.push_back({"bce_with_logits_backward", shape, 0.0, {in_f32({x}), in_f32({t}), in_f32({1.0f}), out_f32(1)},
                             [](kiln_context* ctx, const std::vector<void*>& p) {
                                 return kiln_bce_with_logits_backward_f32(ctx, (const float*)p[0], (const float*)p[1],
                                                                          (const float*)p[2], (float*)p[3], 1);
                             }});
        }
}

std::vector<OpCase> loss_cases() {
    std::vector<OpCase> cases;
    for (int64_t rows : {1, 7, 64})
        for (int64_t cols : {2, 10, 1000})
            add_cross_entropy(cases, rows, cols, host_labels(rows, cols, (uint32_t)cols), "");
    add_cross_entropy(cases, 3, 4099, host_labels(3, 4099, 3), "");      // a block per row
    add_cross_entropy(cases, 5, 1025, host_labels(5, 1025, 4), "");      // just past the warp limit
    add_cross_entropy(cases, 2000, 10, host_labels(2000, 10, 5), "");    // many rows for the mean's block
    add_cross_entropy(cases, 4, 10, {0, -1, 9, 10}, " bad labels");      // NaN loss; rows 1 and 3 NaN gradients
    add_cross_entropy(cases, 3, 2000, {5, 2000, 1999}, " bad labels");

    for (int64_t n : {1, 7, 4099, 100003}) add_pointwise(cases, n, 0, 0);
    add_pointwise(cases, 100003, 1, 1);
    add_pointwise(cases, 100003, 1, 0);
    add_pointwise(cases, 2, 3, 3);
    add_bce_infinite(cases);
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("loss", loss_cases);
}  // namespace kiln::parity

// Parity cases for layer norm: the forward (y, mean, rstd; with and without gamma/beta, statistics not wanted, in
// place) on rows a warp handles (cols <= 1024: one column, odd widths, exactly 1024) and rows a block handles (1025,
// an odd 4099, a 100003-wide row), one row and many; the backward (dx, dgamma, dbeta; each alone; no gamma) with one
// row split and many (the per-split partials and their ordered sum), and an empty batch (dgamma = dbeta = 0).
// Row statistics are fp32 Welford merges on the GPU and double sums on the CPU, and dgamma/dbeta fp32 trees against
// double, hence the small tolerances.
#include <cmath>
#include <string>
#include <utility>

#include "parity/harness.h"

namespace kiln::parity {
namespace {

constexpr double kRowTol = 1e-10;   // y, mean, rstd, dx: a few ulps
constexpr double kSumTol = 1e-9;    // dgamma, dbeta: sums over rows
constexpr float kEps = 1e-5f;

std::string shape_of(int64_t rows, int64_t cols) {
    return "(" + std::to_string(rows) + "," + std::to_string(cols) + ")";
}

// Rows with distinct offsets and spreads (some means far from 0).
std::vector<float> rows_input(int64_t rows, int64_t cols, uint32_t seed) {
    std::vector<float> x = host_uniform((size_t)(rows * cols), seed);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
            float& v = x[(size_t)(r * cols + c)];
            v = v * (0.25f + 0.25f * (float)(r % 5)) + 2.0f * (float)(r % 3) - 1.0f;
        }
    return x;
}

// Host statistics (double, rounded once) for the backward's mean and rstd inputs: both backends read the same ones.
void host_stats(const std::vector<float>& x, int64_t rows, int64_t cols, std::vector<float>* mean,
                std::vector<float>* rstd) {
    mean->assign((size_t)rows, 0.0f);
    rstd->assign((size_t)rows, 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
        double s = 0, sq = 0;
        for (int64_t c = 0; c < cols; ++c) s += x[(size_t)(r * cols + c)];
        const double m = s / (double)cols;
        for (int64_t c = 0; c < cols; ++c) sq += (x[(size_t)(r * cols + c)] - m) * (x[(size_t)(r * cols + c)] - m);
        (*mean)[(size_t)r] = (float)m;
        (*rstd)[(size_t)r] = (float)(1.0 / std::sqrt(sq / (double)cols + (double)kEps));
    }
}

void add_forward(std::vector<OpCase>& cases, int64_t rows, int64_t cols, bool affine) {
    const size_t n = (size_t)(rows * cols);
    const std::vector<float> x = rows_input(rows, cols, (uint32_t)(rows * 31 + cols));
    const std::vector<float> gamma = host_uniform((size_t)cols, 5, 0.5f, 1.5f), beta = host_uniform((size_t)cols, 6);
    const std::string shape = shape_of(rows, cols) + (affine ? "" : " no gamma/beta");
    cases.push_back({"layer_norm", shape, kRowTol,
                     {in_f32(x), in_f32(gamma), in_f32(beta), out_f32(n), out_f32((size_t)rows), out_f32((size_t)rows)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_layer_norm_f32(ctx, (const float*)p[0], affine ? (const float*)p[1] : nullptr,
                                                    affine ? (const float*)p[2] : nullptr, (float*)p[3], (float*)p[4],
                                                    (float*)p[5], rows, cols, kEps);
                     }});
}

void add_backward(std::vector<OpCase>& cases, int64_t rows, int64_t cols, bool with_gamma) {
    const size_t n = (size_t)(rows * cols);
    const std::vector<float> x = rows_input(rows, cols, (uint32_t)(rows * 17 + cols));
    const std::vector<float> dy = host_uniform(n, (uint32_t)(rows + cols));
    const std::vector<float> gamma = host_uniform((size_t)cols, 7, 0.5f, 1.5f);
    std::vector<float> mean, rstd;
    host_stats(x, rows, cols, &mean, &rstd);
    const std::string shape = shape_of(rows, cols) + (with_gamma ? "" : " no gamma");
    cases.push_back({"layer_norm_backward", shape, kSumTol,
                     {in_f32(x), in_f32(dy), in_f32(gamma), in_f32(mean), in_f32(rstd), out_f32(n),
                      out_f32((size_t)cols), out_f32((size_t)cols)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_layer_norm_backward_f32(
                             ctx, (const float*)p[0], (const float*)p[1], with_gamma ? (const float*)p[2] : nullptr,
                             (const float*)p[3], (const float*)p[4], (float*)p[5], (float*)p[6], (float*)p[7], rows,
                             cols);
                     }});
}

std::vector<OpCase> layernorm_cases() {
    std::vector<OpCase> cases;
    const int64_t shapes[][2] = {{1, 1},    {1, 7},    {3, 33},     {7, 100}, {8, 1024}, {2, 1025},
                                 {5, 4099}, {1000, 96}, {1, 100003}, {70, 2000}};
    for (const auto& s : shapes) add_forward(cases, s[0], s[1], true);
    for (const auto& s : {std::pair<int64_t, int64_t>{3, 33}, {2, 1025}}) add_forward(cases, s.first, s.second, false);

    // Statistics not wanted (inference), and y aliasing x.
    {
        const int64_t rows = 9, cols = 130;
        const std::vector<float> x = rows_input(rows, cols, 77), beta = host_uniform((size_t)cols, 8);
        cases.push_back({"layer_norm", shape_of(rows, cols) + " no mean/rstd", kRowTol,
                         {in_f32(x), in_f32(beta), out_f32((size_t)(rows * cols))},
                         [=](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_layer_norm_f32(ctx, (const float*)p[0], nullptr, (const float*)p[1],
                                                        (float*)p[2], nullptr, nullptr, rows, cols, kEps);
                         }});
        cases.push_back({"layer_norm", shape_of(rows, 1500) + " in place", kRowTol,
                         {inout_f32(rows_input(rows, 1500, 78))},
                         [=](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_layer_norm_f32(ctx, (const float*)p[0], nullptr, nullptr, (float*)p[0],
                                                        nullptr, nullptr, rows, 1500, kEps);
                         }});
    }

    const int64_t bshapes[][2] = {{1, 1}, {3, 33}, {4, 257}, {2, 1025}, {1000, 33}, {513, 700}, {3, 5000}};
    for (const auto& s : bshapes) add_backward(cases, s[0], s[1], true);
    add_backward(cases, 300, 65, false);
    add_backward(cases, 2, 2000, false);
    // dx written over dy: dgamma and dbeta must still be summed from dy (one split of the rows, and several).
    for (const auto& s : {std::pair<int64_t, int64_t>{3, 33}, {513, 700}}) {
        const int64_t rows = s.first, cols = s.second;
        const std::vector<float> x = rows_input(rows, cols, (uint32_t)(rows + 5 * cols));
        std::vector<float> mean, rstd;
        host_stats(x, rows, cols, &mean, &rstd);
        cases.push_back({"layer_norm_backward", shape_of(rows, cols) + " dx over dy", kSumTol,
                         {in_f32(x), inout_f32(host_uniform((size_t)(rows * cols), 91)),
                          in_f32(host_uniform((size_t)cols, 7, 0.5f, 1.5f)), in_f32(mean), in_f32(rstd),
                          out_f32((size_t)cols), out_f32((size_t)cols)},
                         [=](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_layer_norm_backward_f32(ctx, (const float*)p[0], (const float*)p[1],
                                                                 (const float*)p[2], (const float*)p[3],
                                                                 (const float*)p[4], (float*)p[1], (float*)p[5],
                                                                 (float*)p[6], rows, cols);
                         }});
    }

    // Each gradient alone, with many row splits (1000 rows of 33).
    {
        const int64_t rows = 1000, cols = 33;
        const size_t n = (size_t)(rows * cols);
        const std::vector<float> x = rows_input(rows, cols, 91), dy = host_uniform(n, 92);
        const std::vector<float> gamma = host_uniform((size_t)cols, 93, 0.5f, 1.5f);
        std::vector<float> mean, rstd;
        host_stats(x, rows, cols, &mean, &rstd);
        const char* names[] = {"dx only", "dgamma only", "dbeta only"};
        for (int which = 0; which < 3; ++which) {
            const size_t count = which == 0 ? n : (size_t)cols;
            cases.push_back({"layer_norm_backward", shape_of(rows, cols) + " " + names[which],
                             which == 0 ? kRowTol : kSumTol,
                             {in_f32(x), in_f32(dy), in_f32(gamma), in_f32(mean), in_f32(rstd), out_f32(count)},
                             [=](kiln_context* ctx, const std::vector<void*>& p) {
                                 float* out = (float*)p[5];
                                 return kiln_layer_norm_backward_f32(
                                     ctx, (const float*)p[0], (const float*)p[1], (const float*)p[2],
                                     (const float*)p[3], (const float*)p[4], which == 0 ? out : nullptr,
                                     which == 1 ? out : nullptr, which == 2 ? out : nullptr, rows, cols);
                             }});
        }
    }
    // No rows: dgamma and dbeta are zeros, not left untouched.
    cases.push_back({"layer_norm_backward", "(0,5)", 0.0, {out_f32(5), out_f32(5)},
                     [](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_layer_norm_backward_f32(ctx, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                                             (float*)p[0], (float*)p[1], 0, 5);
                     }});
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("layernorm", layernorm_cases);
}  // namespace kiln::parity

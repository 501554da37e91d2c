// Parity cases for sums over an axis, max over the last dimension, sum of squares and softmax, forward and backward.
// Shapes cover every launch path of kernels/reduce.cu (warp / block per row, the slab and column sums, float4 and
// misaligned all-reduces) and the special values (ties, NaN, +-inf, -inf masks). Tolerances: 0 where both backends
// do the same fp32 operations (copies, argmax, scale * dy), 1e-10 normalized MSE where the summation order differs.
#include <cmath>
#include <limits>

#include "parity/harness.h"

namespace kiln::parity {
namespace {

constexpr double kSumTol = 1e-10;
const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

std::string dims(std::initializer_list<int64_t> d) {
    std::string s = "(";
    for (int64_t v : d) s += (s.size() > 1 ? "," : "") + std::to_string(v);
    return s + ")";
}

// Values on a coarse grid, so rows hold many ties.
std::vector<float> quantized(size_t n, uint32_t seed) {
    std::vector<float> v = host_uniform(n, seed, -2.0f, 2.0f);
    for (float& x : v) x = std::round(x * 2.0f) / 2.0f;
    return v;
}

std::vector<float> host_softmax(const std::vector<float>& x, int64_t rows, int64_t cols, bool log) {
    std::vector<float> y(x.size());
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x.data() + r * cols;
        double m = -INFINITY, s = 0;
        for (int64_t c = 0; c < cols; ++c) m = std::fmax(m, xr[c]);
        for (int64_t c = 0; c < cols; ++c) s += std::exp(xr[c] - m);
        for (int64_t c = 0; c < cols; ++c)
            y[r * cols + c] = (float)(log ? (xr[c] - m) - std::log(s) : std::exp(xr[c] - m) / s);
    }
    return y;
}

// First index of the row max (NaN first), as the ABI defines it.
std::vector<int32_t> host_argmax(const std::vector<float>& x, int64_t rows, int64_t cols) {
    std::vector<int32_t> idx(rows);
    for (int64_t r = 0; r < rows; ++r) {
        int64_t best = 0;
        for (int64_t c = 1; c < cols; ++c) {
            const float v = x[r * cols + c], b = x[r * cols + best];
            if (std::isnan(b)) break;
            if (std::isnan(v) || v > b) best = c;
        }
        idx[r] = (int32_t)best;
    }
    return idx;
}

void add_reduce_sum(std::vector<OpCase>& cases, int64_t outer, int64_t len, int64_t inner, bool mean) {
    const float scale = mean && len > 0 ? 1.0f / (float)len : 1.0f;
    const std::string shape = dims({outer, len, inner}) + (mean ? " mean" : " sum");
    const size_t nx = (size_t)(outer * len * inner), ny = (size_t)(outer * inner);
    cases.push_back({"reduce_sum", shape, kSumTol, {in_f32(host_uniform(nx, (uint32_t)(nx + 1))), out_f32(ny)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_reduce_sum_f32(ctx, (const float*)p[0], (float*)p[1], outer, len, inner, scale);
                     }});
    cases.push_back({"reduce_sum_backward", shape, 0.0, {in_f32(host_uniform(ny, (uint32_t)(ny + 2))), out_f32(nx)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_reduce_sum_backward_f32(ctx, (const float*)p[0], (float*)p[1], outer, len, inner,
                                                             scale);
                     }});
}

void add_max(std::vector<OpCase>& cases, const std::string& tag, const std::vector<float>& x, int64_t rows,
             int64_t cols) {
    const std::string shape = dims({rows, cols}) + tag;
    cases.push_back({"max_lastdim", shape, 0.0, {in_f32(x), out_f32(rows), out_i32(rows)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_max_lastdim_f32(ctx, (const float*)p[0], (float*)p[1], (int32_t*)p[2], rows, cols);
                     }});
    cases.push_back({"max_lastdim_backward", shape, 0.0,
                     {in_f32(host_uniform(rows, (uint32_t)cols)), in_i32(host_argmax(x, rows, cols)),
                      out_f32((size_t)(rows * cols))},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_max_lastdim_backward_f32(ctx, (const float*)p[0], (const int32_t*)p[1],
                                                              (float*)p[2], rows, cols);
                     }});
}

// special == true: forward softmax only; log_softmax of a masked row is -inf there, which normalized MSE cannot
// compare (inf - inf), and the backward of NaN rows says nothing new.
void add_softmax(std::vector<OpCase>& cases, const std::string& tag, const std::vector<float>& x, int64_t rows,
                 int64_t cols, bool special = false) {
    const size_t n = (size_t)(rows * cols);
    for (int32_t log : {0, 1}) {
        if (special && log) continue;
        const std::string shape = dims({rows, cols}) + tag + (log ? " log" : "");
        cases.push_back({"softmax", shape, kSumTol, {in_f32(x), out_f32(n)},
                         [=](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_softmax_f32(ctx, (const float*)p[0], (float*)p[1], rows, cols, log);
                         }});
        if (special) continue;
        cases.push_back({"softmax_backward", shape, kSumTol,
                         {in_f32(host_softmax(x, rows, cols, log)), in_f32(host_uniform(n, (uint32_t)(n + 7))),
                          out_f32(n)},
                         [=](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_softmax_backward_f32(ctx, (const float*)p[0], (const float*)p[1], (float*)p[2],
                                                              rows, cols, log);
                         }});
    }
}

// Rows of special values: a -inf mask beside finite logits (finite output), then NaN, +inf and all -inf (NaN rows).
std::vector<float> special_rows(int64_t cols) {
    std::vector<float> x = host_uniform((size_t)(5 * cols), (uint32_t)cols, -3.0f, 3.0f);
    for (int64_t c = 0; c < cols; c += 3) x[c] = -kInf;                    // row 0: masked
    x[cols + cols / 2] = kNaN;                                             // row 1: NaN
    x[2 * cols + cols - 1] = kInf;                                         // row 2: +inf
    for (int64_t c = 0; c < cols; ++c) x[3 * cols + c] = -kInf;            // row 3: all -inf
    for (int64_t c = 0; c < cols; ++c) x[4 * cols + c] = c % 2 ? 1e4f : -1e4f;  // row 4: huge
    return x;
}

std::vector<OpCase> reduce_cases() {
    std::vector<OpCase> cases;
    // Sums: warp rows, block rows (long), the all-reduce, slab (1 < inner < 32), columns (inner >= 32), empty len.
    const int64_t sums[][3] = {{1, 1, 1},   {7, 33, 1},   {1, 257, 1},   {5, 7, 33},   {1, 100003, 1},
                               {3, 2000, 1}, {4, 1000, 5}, {300, 3, 2},   {2, 3, 1000}, {2, 3000, 64},
                               {3, 0, 4},   {3, 0, 1}};
    for (const auto& s : sums) {
        add_reduce_sum(cases, s[0], s[1], s[2], false);
        if (s[1] > 1) add_reduce_sum(cases, s[0], s[1], s[2], true);
    }

    // Sum of squares: float4 loads, and x misaligned by one float (scalar loads of the same chunks).
    for (int64_t n : {0, 1, 7, 4099, 100003, 1 << 20}) {
        cases.push_back({"sum_squares", "n=" + std::to_string(n), kSumTol,
                         {in_f32(host_uniform((size_t)n, (uint32_t)n, -2.0f, 2.0f)), out_f32(1)},
                         [=](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_sum_squares_f32(ctx, (const float*)p[0], n, (float*)p[1]);
                         }});
    }
    cases.push_back({"sum_squares", "n=100003 x+1", kSumTol, {in_f32(host_uniform(100004, 3)), out_f32(1)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_sum_squares_f32(ctx, (const float*)p[0] + 1, 100003, (float*)p[1]);
                     }});

    // Max: warp and block rows, heavy ties, NaN / -inf rows.
    const int64_t rc[][2] = {{1, 1}, {7, 33}, {64, 10}, {3, 1000}, {1, 4099}, {5, 2000}};
    for (const auto& s : rc) {
        const size_t n = (size_t)(s[0] * s[1]);
        add_max(cases, "", host_uniform(n, (uint32_t)(n + 11)), s[0], s[1]);
    }
    add_max(cases, " ties", quantized(7 * 33, 1), 7, 33);
    add_max(cases, " ties", quantized(3 * 3000, 2), 3, 3000);
    add_max(cases, " special", special_rows(40), 5, 40);
    add_max(cases, " special", special_rows(1500), 5, 1500);

    // Softmax: register rows for every VPT (1..32), the 1024 / 1025 boundary, block rows; special values.
    const int64_t sm[][2] = {{1, 1}, {7, 33}, {64, 10}, {3, 1000}, {1, 4099}, {9, 100}, {5, 200},
                             {4, 500}, {100, 1024}, {4, 1025}, {2, 30000}};
    for (const auto& s : sm) {
        const size_t n = (size_t)(s[0] * s[1]);
        add_softmax(cases, "", host_uniform(n, (uint32_t)(n + 5), -5.0f, 5.0f), s[0], s[1]);
    }
    add_softmax(cases, " special", special_rows(40), 5, 40, true);
    add_softmax(cases, " special", special_rows(1500), 5, 1500, true);
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("reduce", reduce_cases);
}  // namespace kiln::parity

// CPU twin of kernels/reduce.cu: sums over an axis, max over the last dimension with its argmax, sum of squares,
// softmax and log_softmax; plus the deterministic double-precision summation that native/src/cpu/loss.cpp shares.
// Arguments were validated by native/src/core/ops_reduce.cpp before they get here.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "cpu/parallel.h"

namespace kiln::cpu {

// x is (outer, len, inner), y is (outer, inner): y = scale * sum over len.
void reduce_sum_f32(const float* x, float* y, int64_t outer, int64_t len, int64_t inner, float scale);
// dy is (outer, inner), dx is (outer, len, inner): dx = scale * dy.
void reduce_sum_backward_f32(const float* dy, float* dx, int64_t outer, int64_t len, int64_t inner, float scale);
// x is (rows, cols), y and index are (rows); cols >= 1. NaN is the max when present (first NaN), ties go to the
// first index.
void max_lastdim_f32(const float* x, float* y, int32_t* index, int64_t rows, int64_t cols);
// dy and index are (rows), dx is (rows, cols). An index outside [0, cols) leaves its row zero.
void max_lastdim_backward_f32(const float* dy, const int32_t* index, float* dx, int64_t rows, int64_t cols);
// x is (n), out is (1).
void sum_squares_f32(const float* x, int64_t n, float* out);
// x, y are (rows, cols); cols >= 1.
void softmax_f32(const float* x, float* y, int64_t rows, int64_t cols, bool log);
// y, dy, dx are (rows, cols); y is the forward output.
void softmax_backward_f32(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool log);

// ---- shared with loss.cpp ----

// Elements per block of a long sum. Blocks are summed in parallel and their partials added in block order, so a
// result depends on the shape only, never on the thread count.
constexpr int64_t kSumBlock = 1 << 14;

// sum of term(i) for i in [begin, end), in double, with four interleaved accumulators (independent add chains).
template <typename Term>
double sum_range(int64_t begin, int64_t end, const Term& term) {
    double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
    int64_t i = begin;
    for (; i + 4 <= end; i += 4) {
        a0 += term(i);
        a1 += term(i + 1);
        a2 += term(i + 2);
        a3 += term(i + 3);
    }
    for (; i < end; ++i) a0 += term(i);
    return (a0 + a1) + (a2 + a3);
}

// range_sum(begin, end) over fixed blocks of kSumBlock of [0, n), in parallel, the partials added in block order: a
// result depends on the shape only, never on the thread count. range_sum is a vector span's sum, or sum_range's.
template <typename RangeSum>
double blocked_range_sum(int64_t n, const RangeSum& range_sum) {
    const int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
    if (blocks <= 1) return range_sum(0, n);
    std::vector<double> part((size_t)blocks);
    parallel_for(blocks, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) part[b] = range_sum(b * kSumBlock, std::min(n, (b + 1) * kSumBlock));
    });
    double total = 0.0;
    for (double p : part) total += p;
    return total;
}

// sum of term(i) for i in [0, n), in double, by blocked_range_sum.
template <typename Term>
double blocked_sum(int64_t n, const Term& term) {
    return blocked_range_sum(n, [&term](int64_t begin, int64_t end) { return sum_range(begin, end, term); });
}

// Row statistics of the two-pass softmax (kernels/common/softmax_math.h): the max ignoring NaN, and
// sum exp(x - m) in double.
float row_max(const float* x, int64_t cols);
double row_sum_exp(const float* x, int64_t cols, float m);
// Rows per parallel_for chunk for row-wise work: about 16K elements.
int64_t row_grain(int64_t cols);

// The AVX-512 row spans of reduce_avx512.cpp (where has_avx512(); row_sum_exp, softmax and cross entropy take them
// there): each lane the scalar formula's operations with the vector exp of cpu/avx512_math.h, within 2 ulp of
// glibc's expf.
namespace avx512 {
// sum over i < n of exp(x[i] - m) in double, in a fixed order for a given span; x[i] - m <= 0 (m is the row max).
double sum_exp_shifted(const float* x, int64_t n, float m);
// y[i] = exp(x[i] - m) for i < n; y may alias x.
void exp_shifted(const float* x, int64_t n, float m, float* y);
// d[i] = (exp(x[i] - lse) - (i == label)) * scale for i < n: one row of the cross-entropy gradient (label valid).
void cross_entropy_grad_row(const float* x, int64_t n, float lse, int64_t label, float scale, float* d);
}  // namespace avx512

}  // namespace kiln::cpu

// The CPU's deterministic double-precision sums and softmax row statistics, shared by reduce.cpp, loss.cpp,
// batchnorm.cpp and sampling.cpp, and the vector row spans of reduce_avx512.cpp and reduce_avx2.cpp. The reduce
// entries are declared in kernels/reduce.h (its kiln::cpu block).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "cpu/parallel.h"

namespace kiln::cpu {

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

// sum of x[i], and of x[i] w[i], for i < n, in double: the vector spans where the CPU has them (four chains of 16 or
// 8 lanes, at the speed of the loads), else sum_range. Each order is fixed by n alone; they differ in the last bits.
double row_sum(const float* x, int64_t n);
double row_dot(const float* x, const float* w, int64_t n);

// Row statistics of the two-pass softmax (kernels/common/softmax_math.h): the max ignoring NaN, and
// sum exp(x - m) in double.
float row_max(const float* x, int64_t cols);
double row_sum_exp(const float* x, int64_t cols, float m);
// Rows per parallel_for chunk for row-wise work: about 16K elements.
int64_t row_grain(int64_t cols);

// The vector row spans (cpu/vec_rows.h, built per ISA in reduce_avx512.cpp and reduce_avx2.cpp): row_sum, row_dot,
// row_sum_exp, softmax and cross entropy take them where row_spans() has a set. Each lane runs the scalar formula's
// operations with the vector exp of cpu/vec_math.h, within 2 ulp of glibc's expf.
struct RowSpans {
    // sum of x[i] (of x[i] w[i]) for i < n in double.
    double (*sum)(const float* x, int64_t n);
    double (*dot)(const float* x, const float* w, int64_t n);
    // sum over i < n of exp(x[i] - m) in double, in a fixed order for a given span; x[i] - m <= 0 (m is the row max).
    double (*sum_exp_shifted)(const float* x, int64_t n, float m);
    // y[i] = exp(x[i] - m) for i < n; y may alias x.
    void (*exp_shifted)(const float* x, int64_t n, float m, float* y);
    // d[i] = (exp(x[i] - lse) - (i == label)) * scale for i < n: one row of the cross-entropy gradient (label valid).
    void (*cross_entropy_grad_row)(const float* x, int64_t n, float lse, int64_t label, float scale, float* d);
};
namespace avx512 {
extern const RowSpans kRowSpans;
}
namespace avx2 {
extern const RowSpans kRowSpans;
}
// The spans of this CPU's widest ISA (isa()), or nullptr where it has neither AVX-512 nor AVX2.
const RowSpans* row_spans();

}  // namespace kiln::cpu

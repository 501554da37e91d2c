// AVX-512 spans of the softmax family (cpu/reduce_rows.h): exp(x - m) for a row and its double-precision sum, and the
// cross-entropy gradient of a row, 16 lanes at a time with the vector exp of cpu/avx512_math.h in place of glibc's
// expf (the scalar loops spent 4 ns per element in it). The scalar formulas' operations, in their order
// (kernels/common/softmax_math.h). Built with the AVX-512 flags.
#include "cpu/avx512_math.h"
#include "cpu/reduce_rows.h"

namespace kiln::cpu::avx512 {

namespace {

// Four double accumulators of 16 lanes each, so that four independent add chains hide the adder's latency and the
// loop runs at the speed of the loads; combined in a fixed order. `add(u, a, b)` folds a * b into chain u (b == 1 for
// a plain sum), products and sums in double.
struct FourChains {
    __m512d lo[4] = {_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd()};
    __m512d hi[4] = {_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd()};
    void add(int u, V a) {
        lo[u] = _mm512_add_pd(lo[u], widen_lo(a));
        hi[u] = _mm512_add_pd(hi[u], widen_hi(a));
    }
    void add(int u, V a, V b) {
        lo[u] = _mm512_fmadd_pd(widen_lo(a), widen_lo(b), lo[u]);
        hi[u] = _mm512_fmadd_pd(widen_hi(a), widen_hi(b), hi[u]);
    }
    double total() const {
        alignas(64) double l[4][8], h[4][8];
        for (int u = 0; u < 4; ++u) {
            _mm512_store_pd(l[u], lo[u]);
            _mm512_store_pd(h[u], hi[u]);
        }
        double t = 0.0;
        for (int i = 0; i < 8; ++i) {
            t += ((l[0][i] + h[0][i]) + (l[1][i] + h[1][i])) + ((l[2][i] + h[2][i]) + (l[3][i] + h[3][i]));
        }
        return t;
    }
};

}  // namespace

// Masked loads give 0 past the end, which adds nothing: the tail needs no mask on the accumulators.
double sum_span(const float* x, int64_t n) {
    FourChains c;
    int64_t j = 0;
    for (; j + 64 <= n; j += 64)
        for (int u = 0; u < 4; ++u) c.add(u, _mm512_loadu_ps(x + j + 16 * u));
    for (int u = 0; j < n; j += 16, ++u) c.add(u, _mm512_maskz_loadu_ps(tail_mask(n - j), x + j));
    return c.total();
}

double dot_span(const float* x, const float* w, int64_t n) {
    FourChains c;
    int64_t j = 0;
    for (; j + 64 <= n; j += 64)
        for (int u = 0; u < 4; ++u) c.add(u, _mm512_loadu_ps(x + j + 16 * u), _mm512_loadu_ps(w + j + 16 * u));
    for (int u = 0; j < n; j += 16, ++u) {
        const __mmask16 m = tail_mask(n - j);
        c.add(u, _mm512_maskz_loadu_ps(m, x + j), _mm512_maskz_loadu_ps(m, w + j));
    }
    return c.total();
}

double sum_exp_shifted(const float* x, int64_t n, float m) {
    DoubleSum sum;
    const V mv = k(m);
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 mask = tail_mask(n - j);
        sum.add(exp_nonpos(sub(_mm512_maskz_loadu_ps(mask, x + j), mv)), mask);
    }
    return sum.total();
}

void exp_shifted(const float* x, int64_t n, float m, float* y) {
    const V mv = k(m);
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 mask = tail_mask(n - j);
        _mm512_mask_storeu_ps(y + j, mask, exp_nonpos(sub(_mm512_maskz_loadu_ps(mask, x + j), mv)));
    }
}

void cross_entropy_grad_row(const float* x, int64_t n, float lse, int64_t label, float scale, float* d) {
    const V lv = k(lse), sv = k(scale);
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 mask = tail_mask(n - j);
        const V e = exp_nonpos(sub(_mm512_maskz_loadu_ps(mask, x + j), lv));
        // (exp(x - lse) + (is_label ? -1 : 0)) * scale: the label's lane subtracts 1, the others add 0.
        const __mmask16 is_label = label >= j && label < j + 16 ? (__mmask16)(1u << (label - j)) : (__mmask16)0;
        const V shifted = add(e, _mm512_mask_blend_ps(is_label, k(0.0f), k(-1.0f)));
        _mm512_mask_storeu_ps(d + j, mask, mul(shifted, sv));
    }
}

}  // namespace kiln::cpu::avx512

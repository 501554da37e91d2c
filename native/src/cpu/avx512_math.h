// Lane helpers for the AVX-512 spans (*_avx512.cpp only: the file must be built with the AVX-512 flags), the lane set
// of cpu/vec_math.h for AVX-512 (its exp and log1p; cpu/avx2_math.h holds AVX2's), and a double-precision span sum.
// Internal linkage on purpose: every AVX-512 file gets its own copy, and none can be merged into code that runs on a
// CPU without AVX-512.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "cpu/vec_math.h"

// GCC 12's own min/roundscale/scalef intrinsics read an _mm512_undefined_ps() and warn about it in every caller (every
// file that includes this one).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace kiln::cpu::avx512 {
namespace {

using V = __m512;

inline V vabs(V a) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff))); }

// Lanes [0, min(left, 16)) of a span's next 16.
inline __mmask16 tail_mask(int64_t left) { return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1); }

// The 16 floats of v widened to double: lanes 0-7 and lanes 8-15.
inline __m512d widen_lo(V v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
inline __m512d widen_hi(V v) { return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))); }

// A span's sum in double: each float lane widened into one of 16 double accumulators (lanes outside the mask left
// out), added up in a fixed order at the end, so the total depends on the span's length only, never on threads.
struct DoubleSum {
    __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
    void add(V v, __mmask16 m) {
        lo = _mm512_mask_add_pd(lo, (__mmask8)(m & 0xff), lo, widen_lo(v));
        hi = _mm512_mask_add_pd(hi, (__mmask8)(m >> 8), hi, widen_hi(v));
    }
    double total() const {
        alignas(64) double a[8], b[8];
        _mm512_store_pd(a, lo);
        _mm512_store_pd(b, hi);
        double t = 0.0;
        for (int i = 0; i < 8; ++i) t += a[i] + b[i];
        return t;
    }
};

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

// The lane set of cpu/vec_math.h for AVX-512: 16 floats, conditions in mask registers.
struct Lanes {
    using V = __m512;
    using M = __mmask16;
    using I = __m512i;
    static constexpr int W = 16;
    using DoubleSum = avx512::DoubleSum;
    using FourChains = avx512::FourChains;
    static V k(float v) { return _mm512_set1_ps(v); }
    static V add(V a, V b) { return _mm512_add_ps(a, b); }
    static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
    static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
    static V div(V a, V b) { return _mm512_div_ps(a, b); }
    static V min(V a, V b) { return _mm512_min_ps(a, b); }
    static V max(V a, V b) { return _mm512_max_ps(a, b); }
    static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
    static V fnmadd(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }
    static V fmsub(V a, V b, V c) { return _mm512_fmsub_ps(a, b, c); }
    static V vabs(V a) { return avx512::vabs(a); }
    static V round_nearest(V v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    static V scalef(V m, V n) { return _mm512_scalef_ps(m, n); }
    static M lt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
    static M gt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
    static M ge(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
    static M eq(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
    static M is_nan(V v) { return _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q); }
    static M negative(V v) { return _mm512_movepi32_mask(_mm512_castps_si512(v)); }
    static bool all(M m) { return m == 0xffff; }
    static bool any(M m) { return m != 0; }
    static M lane_is(int64_t i) { return i >= 0 && i < W ? (M)(1u << i) : (M)0; }
    static V blend(M m, V a, V b) { return _mm512_mask_blend_ps(m, a, b); }
    static V with_sign_of(V a, V s) {
        return _mm512_or_ps(a, _mm512_and_ps(s, _mm512_castsi512_ps(_mm512_set1_epi32((int)0x80000000u))));
    }
    static I to_int(V v) { return _mm512_cvtps_epi32(v); }
    using Index = I;
    static Index index32(I i) { return i; }
    static V lookup32(const float* c, I i) {
        return _mm512_permutex2var_ps(_mm512_load_ps(c), i, _mm512_load_ps(c + 16));
    }
    static M tail(int64_t left) { return tail_mask(left); }
    static M both(M a, M b) { return a & b; }
    static M either(M a, M b) { return a | b; }
    static M ordered(V v) { return _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q); }
    // int32 lanes: iota(step) = 0, step, 2 step, ...
    static I iota(int step) {
        return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                  _mm512_set1_epi32(step));
    }
    static I ik(int32_t v) { return _mm512_set1_epi32(v); }
    static I iadd(I a, I b) { return _mm512_add_epi32(a, b); }
    static M ieq(I a, I b) { return _mm512_cmpeq_epi32_mask(a, b); }
    static I iblend(M m, I a, I b) { return _mm512_mask_mov_epi32(a, m, b); }
    static I iload(const int32_t* p, M m) { return _mm512_maskz_loadu_epi32(m, p); }
    static I iloadu(const int32_t* p) { return _mm512_loadu_si512(p); }
    static void istore_first(int32_t* p, int64_t n, I v) { _mm512_mask_storeu_epi32(p, tail_mask(n), v); }
    static void store_first(float* p, int64_t n, V v) { _mm512_mask_storeu_ps(p, tail_mask(n), v); }
    static void store_first2(float* p, int64_t n, V lo, V hi) {
        _mm512_mask_storeu_ps(p, tail_mask(n), lo);
        if (n > W) _mm512_mask_storeu_ps(p + W, tail_mask(n - W), hi);
    }
    // Floats 2j and 2j + 1 of p for j < n (n <= W; nothing read past 2n): the even and the odd columns of a row.
    static void deinterleave(const float* p, int64_t n, V& even, V& odd) {
        const V lo = n == W ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(tail_mask(2 * n), p);
        const V hi = n == W ? _mm512_loadu_ps(p + W)
                     : 2 * n > W ? _mm512_maskz_loadu_ps(tail_mask(2 * n - W), p + W) : _mm512_setzero_ps();
        even = _mm512_permutex2var_ps(lo, iota(2), hi);
        odd = _mm512_permutex2var_ps(lo, iadd(iota(2), ik(1)), hi);
    }
    // a0 b0 a1 b1 ... : lanes [0, W) in lo, [W, 2W) in hi.
    static void interleave(V a, V b, V& lo, V& hi) {
        lo = _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), b);
        hi = _mm512_permutex2var_ps(a, _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31),
                                    b);
    }
    static V loadu(const float* p) { return _mm512_loadu_ps(p); }
    static void storeu(float* p, V v) { _mm512_storeu_ps(p, v); }
    static void accumulate(double* acc, V v) {
        _mm512_storeu_pd(acc, _mm512_add_pd(_mm512_loadu_pd(acc), widen_lo(v)));
        _mm512_storeu_pd(acc + 8, _mm512_add_pd(_mm512_loadu_pd(acc + 8), widen_hi(v)));
    }
    static V load(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
    static void store(float* p, M m, V v) { _mm512_mask_storeu_ps(p, m, v); }
    static void accumulate(double* acc, M m, V v) {
        const __mmask8 mlo = (__mmask8)(m & 0xff), mhi = (__mmask8)(m >> 8);
        _mm512_mask_storeu_pd(acc, mlo, _mm512_add_pd(_mm512_maskz_loadu_pd(mlo, acc), widen_lo(v)));
        _mm512_mask_storeu_pd(acc + 8, mhi, _mm512_add_pd(_mm512_maskz_loadu_pd(mhi, acc + 8), widen_hi(v)));
    }
};

}  // namespace
}  // namespace kiln::cpu::avx512

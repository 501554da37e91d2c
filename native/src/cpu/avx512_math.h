// Vector math for the AVX-512 spans (*_avx512.cpp only: the file must be built with the AVX-512 flags): lane helpers,
// an exp by Cody-Waite reduction plus a Taylor polynomial with the power of two applied by scalef (so results near
// the underflow round once), and log1p on [0, 1]. Internal linkage on purpose: every AVX-512 file gets its own copy,
// and none can be merged into code that runs on a CPU without AVX-512.
#pragma once

#include <immintrin.h>

#include <cstdint>

// GCC 12's own min/roundscale/scalef intrinsics read an _mm512_undefined_ps() and warn about it in every caller (every
// file that includes this one).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace kiln::cpu::avx512 {
namespace {

using V = __m512;

inline V k(float v) { return _mm512_set1_ps(v); }
inline V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
inline V mul(V a, V b) { return _mm512_mul_ps(a, b); }
inline V add(V a, V b) { return _mm512_add_ps(a, b); }
inline V sub(V a, V b) { return _mm512_sub_ps(a, b); }
inline V vabs(V a) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff))); }
inline V scalef(V m, V n) { return _mm512_scalef_ps(m, n); }

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

// exp(r) = 1 + r p(r) for |r| <= 0.35 (a little past ln2 / 2): p is the Taylor series of (exp(r) - 1) / r to degree 6,
// truncation 5e-9 relative. r p(r) is also expm1(r), with no cancellation near 0.
inline V exp_taylor_p(V r) {
    V p = k(1.0f / 5040.0f);
    p = fma(p, r, k(1.0f / 720.0f));
    p = fma(p, r, k(1.0f / 120.0f));
    p = fma(p, r, k(1.0f / 24.0f));
    p = fma(p, r, k(1.0f / 6.0f));
    p = fma(p, r, k(0.5f));
    return fma(p, r, k(1.0f));
}

// exp(r) for |r| <= 0.35.
inline V exp_poly(V r) { return fma(exp_taylor_p(r), r, k(1.0f)); }

// v = n ln2 + r with n integer-valued and |r| <= ln2 / 2, for |v| <= 200 (callers keep it there): Cody-Waite with ln2
// in two parts, n * 0.693359375 being exact for |n| < 2^15.
struct Reduced {
    V r, n;
};
inline Reduced reduce_ln2(V v) {
    const V n = _mm512_roundscale_ps(mul(v, k(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    V r = _mm512_fnmadd_ps(n, k(0.693359375f), v);
    r = _mm512_fnmadd_ps(n, k(-2.12194440e-4f), r);
    return {r, n};
}

// exp(v) for v <= 0 (NaN stays NaN): below -200 it is 0 in float anyway, so v is clamped there for the reduction.
inline V exp_nonpos(V v) {
    const Reduced e = reduce_ln2(_mm512_max_ps(v, k(-200.0f)));  // max keeps the second operand for NaN: see below
    const V y = scalef(exp_poly(e.r), e.n);
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), y, v);  // NaN in, NaN out
}

// expm1(v) for v <= 0 (NaN stays NaN): the Taylor polynomial's own v p(v) near 0, where exp(v) - 1 would cancel,
// else exp(v) - 1, which loses nothing once exp(v) <= 0.71.
inline V expm1_nonpos(V v) {
    const V small = mul(exp_taylor_p(v), v);
    const V large = sub(exp_nonpos(v), k(1.0f));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, k(-0.34f), _CMP_GE_OQ), large, small);
}

// log1p(u) for u in [0, 1] (NaN stays NaN). w = 1 + u rounds, so log(w) is scaled by u / (w - 1), which is exact
// (Goldberg's correction); log(w) = j ln2 + log(m) with m = w or w / 2 in [0.707, 1.414], and log(m) = 2 atanh(s),
// s = (m - 1) / (m + 1), |s| <= 0.172, by its odd series to s^11 (truncation 5e-11 relative).
inline V log1p_unit(V u) {
    const V w = add(k(1.0f), u);
    const __mmask16 high = _mm512_cmp_ps_mask(w, k(1.41421356f), _CMP_GT_OQ);
    const V m = _mm512_mask_mul_ps(w, high, w, k(0.5f));
    const V s = _mm512_div_ps(sub(m, k(1.0f)), add(m, k(1.0f)));
    const V z = mul(s, s);
    V p = k(2.0f / 11.0f);
    p = fma(p, z, k(2.0f / 9.0f));
    p = fma(p, z, k(2.0f / 7.0f));
    p = fma(p, z, k(2.0f / 5.0f));
    p = fma(p, z, k(2.0f / 3.0f));
    p = fma(p, z, k(2.0f));
    V log_w = mul(p, s);
    log_w = _mm512_mask_add_ps(log_w, high, add(log_w, k(-2.12194440e-4f)), k(0.693359375f));  // + ln2 in two parts
    const V f = sub(w, k(1.0f));  // exact: w is in [1, 2]
    const __mmask16 rounded_to_one = _mm512_cmp_ps_mask(f, k(0.0f), _CMP_EQ_OQ);
    const V corrected = mul(log_w, _mm512_div_ps(u, f));
    return _mm512_mask_blend_ps(rounded_to_one, corrected, u);  // u below half an ulp of 1: log1p(u) = u
}

}  // namespace
}  // namespace kiln::cpu::avx512

// The lane set of cpu/vec_math.h for AVX2 with FMA (*_avx2.cpp only: the file must be built with -mavx2 -mfma): 8
// floats, a condition held as a vector whose sign bit is the lane's flag (what blendv and movemask read, so a compare's
// all-ones and a value's own sign both serve). Each operation rounds as its AVX-512 twin in cpu/avx512_math.h does,
// so the spans built on cpu/vec_math.h give the same bits on both ISAs. Internal linkage, as every ISA's lanes.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "cpu/vec_math.h"

namespace kiln::cpu::avx2 {
namespace {

// A span's sum in double: each float lane widened into one of 8 double accumulators (lanes outside the mask left
// out), added up in a fixed order at the end, so the total depends on the span's length only, never on threads.
struct DoubleSum {
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    void add(__m256 v, __m256 m) {
        const __m256 on = _mm256_and_ps(v, m);  // m is all ones or all zeros per lane (a compare or tail())
        lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(on)));
        hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(on, 1)));
    }
    double total() const {
        alignas(32) double a[4], b[4];
        _mm256_store_pd(a, lo);
        _mm256_store_pd(b, hi);
        double t = 0.0;
        for (int i = 0; i < 4; ++i) t += a[i] + b[i];
        return t;
    }
};

// Four chains of 8 double lanes for sums and dot products, so the adds' latency hides behind the loads; combined in
// a fixed order. add(u, a, b) folds a * b into chain u, products and sums in double.
struct FourChains {
    __m256d lo[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd()};
    __m256d hi[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd()};
    static __m256d widen_lo(__m256 a) { return _mm256_cvtps_pd(_mm256_castps256_ps128(a)); }
    static __m256d widen_hi(__m256 a) { return _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)); }
    void add(int u, __m256 a) {
        lo[u] = _mm256_add_pd(lo[u], widen_lo(a));
        hi[u] = _mm256_add_pd(hi[u], widen_hi(a));
    }
    void add(int u, __m256 a, __m256 b) {
        lo[u] = _mm256_fmadd_pd(widen_lo(a), widen_lo(b), lo[u]);
        hi[u] = _mm256_fmadd_pd(widen_hi(a), widen_hi(b), hi[u]);
    }
    double total() const {
        alignas(32) double l[4][4], h[4][4];
        for (int u = 0; u < 4; ++u) {
            _mm256_store_pd(l[u], lo[u]);
            _mm256_store_pd(h[u], hi[u]);
        }
        double t = 0.0;
        for (int i = 0; i < 4; ++i) {
            t += ((l[0][i] + h[0][i]) + (l[1][i] + h[1][i])) + ((l[2][i] + h[2][i]) + (l[3][i] + h[3][i]));
        }
        return t;
    }
};

struct Lanes {
    using V = __m256;
    using M = __m256;
    using I = __m256i;
    static constexpr int W = 8;
    using DoubleSum = avx2::DoubleSum;
    using FourChains = avx2::FourChains;
    static V k(float v) { return _mm256_set1_ps(v); }
    static V add(V a, V b) { return _mm256_add_ps(a, b); }
    static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
    static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
    static V div(V a, V b) { return _mm256_div_ps(a, b); }
    static V min(V a, V b) { return _mm256_min_ps(a, b); }
    static V max(V a, V b) { return _mm256_max_ps(a, b); }
    static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    static V fnmadd(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
    static V fmsub(V a, V b, V c) { return _mm256_fmsub_ps(a, b, c); }
    static V vabs(V a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
    static V round_nearest(V v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    // m 2^n in two exact steps: n is clamped to [-160, 160] and split into halves h1 + h2 with |h| <= 80, so 2^h is a
    // normal float and m 2^h1 is exact for the mantissas callers pass (|m| in [2^-40, 2^40]); only the second product
    // rounds, once, as AVX-512's scalef does, near the underflow included. Past -160 the result is 0 either way.
    static V scalef(V m, V n) {
        const __m256i e = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(n, k(-160.0f)), k(160.0f)));
        const __m256i h1 = _mm256_srai_epi32(e, 1), h2 = _mm256_sub_epi32(e, h1);
        const auto pow2 = [](__m256i h) {
            return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, _mm256_set1_epi32(127)), 23));
        };
        return _mm256_mul_ps(_mm256_mul_ps(m, pow2(h1)), pow2(h2));
    }
    static M lt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
    static M gt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
    static M ge(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
    static M eq(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
    static M is_nan(V v) { return _mm256_cmp_ps(v, v, _CMP_UNORD_Q); }
    static M negative(V v) { return v; }  // blendv and movemask read the sign bit alone
    static bool all(M m) { return _mm256_movemask_ps(m) == 0xff; }
    static bool any(M m) { return _mm256_movemask_ps(m) != 0; }
    static M lane_is(int64_t i) {
        if (i < 0 || i >= W) return _mm256_setzero_ps();
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        return _mm256_castsi256_ps(_mm256_cmpeq_epi32(lane, _mm256_set1_epi32((int)i)));
    }
    static V blend(M m, V a, V b) { return _mm256_blendv_ps(a, b, m); }
    static V with_sign_of(V a, V s) {
        return _mm256_or_ps(a, _mm256_and_ps(s, _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u))));
    }
    static I to_int(V v) { return _mm256_cvtps_epi32(v); }
    // c[i & 31]: one permute per 8 coefficients (it reads bits 0-2), then bits 3 and 4, shifted up to the sign bit,
    // pick among the four. index32 prepares an index once for the several tables it looks up; where every lane's bit
    // 4 is clear (|x| < 1.94 for the GELU, most registers of real activations) the upper 16 are not looked at.
    struct Index {
        I i;
        V bit3, bit4;
        bool low;  // every lane below 16
    };
    static Index index32(I i) {
        const V bit4 = _mm256_castsi256_ps(_mm256_slli_epi32(i, 27));
        return {i, _mm256_castsi256_ps(_mm256_slli_epi32(i, 28)), bit4, _mm256_movemask_ps(bit4) == 0};
    }
    static V lookup32(const float* c, const Index& x) {
        const V q0 = _mm256_permutevar8x32_ps(_mm256_load_ps(c), x.i);
        const V q1 = _mm256_permutevar8x32_ps(_mm256_load_ps(c + 8), x.i);
        const V lower = _mm256_blendv_ps(q0, q1, x.bit3);
        if (x.low) return lower;
        const V q2 = _mm256_permutevar8x32_ps(_mm256_load_ps(c + 16), x.i);
        const V q3 = _mm256_permutevar8x32_ps(_mm256_load_ps(c + 24), x.i);
        return _mm256_blendv_ps(lower, _mm256_blendv_ps(q2, q3, x.bit3), x.bit4);
    }
    static M tail(int64_t left) {
        if (left >= W) return _mm256_castsi256_ps(_mm256_set1_epi32(-1));
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)left), lane));
    }
    static V loadu(const float* p) { return _mm256_loadu_ps(p); }
    static void storeu(float* p, V v) { _mm256_storeu_ps(p, v); }
    static void accumulate(double* acc, V v) {
        const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
        const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        _mm256_storeu_pd(acc, _mm256_add_pd(_mm256_loadu_pd(acc), lo));
        _mm256_storeu_pd(acc + 4, _mm256_add_pd(_mm256_loadu_pd(acc + 4), hi));
    }
    static M both(M a, M b) { return _mm256_and_ps(a, b); }
    static M either(M a, M b) { return _mm256_or_ps(a, b); }
    static M ordered(V v) { return _mm256_cmp_ps(v, v, _CMP_ORD_Q); }
    // int32 lanes: iota(step) = 0, step, 2 step, ...
    static I iota(int step) {
        return _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(step));
    }
    static I ik(int32_t v) { return _mm256_set1_epi32(v); }
    static I iadd(I a, I b) { return _mm256_add_epi32(a, b); }
    static M ieq(I a, I b) { return _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b)); }
    static I iblend(M m, I a, I b) {
        return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), m));
    }
    static I iload(const int32_t* p, M m) { return _mm256_maskload_epi32(p, _mm256_castps_si256(m)); }
    static I iloadu(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
    static void istore_first(int32_t* p, int64_t n, I v) {
        store_first(reinterpret_cast<float*>(p), n, _mm256_castsi256_ps(v));
    }
    // Lanes [0, n) of v to p (n <= W): whole, or in pieces of 4, 2 and 1 lanes, each a plain store. The pieces beat
    // vmaskmovps, which costs about ten plain stores on AMD's cores; n is the same on every call for a shape, so
    // the branches predict.
    static void store_first(float* p, int64_t n, V v) {
        if (n >= W) return storeu(p, v);
        __m128 part = _mm256_castps256_ps128(v);
        if (n & 4) {
            _mm_storeu_ps(p, part);
            part = _mm256_extractf128_ps(v, 1);
            p += 4;
        }
        if (n & 2) {
            _mm_storel_pi(reinterpret_cast<__m64*>(p), part);
            part = _mm_movehl_ps(part, part);
            p += 2;
        }
        if (n & 1) _mm_store_ss(p, part);
    }
    // The first n floats of lo, hi (2 W floats in a row) to p, n <= 2 W.
    static void store_first2(float* p, int64_t n, V lo, V hi) {
        if (n > W) {
            storeu(p, lo);
            store_first(p + W, n - W, hi);
        } else {
            store_first(p, n, lo);
        }
    }
    // Floats 2j and 2j + 1 of p for j < n (n <= W; nothing read past 2n): the even and the odd columns of a row.
    // shuffle_ps picks within 128-bit halves; permute4x64 puts the halves' pairs back in order.
    static void deinterleave(const float* p, int64_t n, V& even, V& odd) {
        const V lo = n == W ? loadu(p) : load(p, tail(2 * n));
        const V hi = n == W ? loadu(p + W) : load(p + W, tail(2 * n - W));
        split(lo, hi, even, odd);
    }
    // The even and the odd floats of the 2 W floats lo, hi.
    static void split(V lo, V hi, V& even, V& odd) {
        even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xd8));
        odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xdd)), 0xd8));
    }
    // a0 b0 a1 b1 ... : lanes [0, W) in lo, [W, 2W) in hi.
    static void interleave(V a, V b, V& lo, V& hi) {
        const V l = _mm256_unpacklo_ps(a, b), h = _mm256_unpackhi_ps(a, b);  // a0 b0 a1 b1 | a4 b4 a5 b5, and 2-3 | 6-7
        lo = _mm256_permute2f128_ps(l, h, 0x20);
        hi = _mm256_permute2f128_ps(l, h, 0x31);
    }
    static V load(const float* p, M m) { return _mm256_maskload_ps(p, _mm256_castps_si256(m)); }
    static void store(float* p, M m, V v) { _mm256_maskstore_ps(p, _mm256_castps_si256(m), v); }
    static void accumulate(double* acc, M m, V v) {
        const __m256i mi = _mm256_castps_si256(m);
        const __m256i mlo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(mi));
        const __m256i mhi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(mi, 1));
        const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
        const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        _mm256_maskstore_pd(acc, mlo, _mm256_add_pd(_mm256_maskload_pd(acc, mlo), lo));
        _mm256_maskstore_pd(acc + 4, mhi, _mm256_add_pd(_mm256_maskload_pd(acc + 4, mhi), hi));
    }
};

}  // namespace
}  // namespace kiln::cpu::avx2

// AVX-512 spans of fp32 <-> bf16, 16 elements per step with masked tails. The integer rounding is bf16.h's, lane by
// lane; vcvtneps2bf16 (AVX512_BF16) rounds the same way except that it flushes fp32 subnormals to zero, so the lanes
// holding one are recomputed by the integer rounding. Compiled with -mavx512f etc.; convert.cpp calls these only after
// convert_detail::available() said the CPU has them.

// GCC 12's own AVX-512 headers trip -Wmaybe-uninitialized inside the shift and narrowing intrinsics (their
// _mm512_undefined_* placeholders), as in conv2d_avx512.cpp.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include "cpu/convert_paths.h"

namespace kiln::cpu::convert_detail {

namespace {

inline __mmask16 first(int64_t n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1); }

// bf16.h's f32_to_bf16 on 16 fp32 bit patterns, the result in the low half of each lane.
inline __m512i round_bits(__m512i u) {
    const __m512i magnitude = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(magnitude, _mm512_set1_epi32(0x7f800000));
    const __m512i high = _mm512_srli_epi32(u, 16);
    const __m512i bias = _mm512_add_epi32(_mm512_and_si512(high, _mm512_set1_epi32(1)), _mm512_set1_epi32(0x7fff));
    const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, bias), 16);
    return _mm512_mask_mov_epi32(rounded, nan, _mm512_or_si512(high, _mm512_set1_epi32(0x40)));
}

}  // namespace

void avx512_f32_to_bf16(const float* x, kiln_bf16* y, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512i u = _mm512_loadu_si512(x + i);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), _mm512_cvtepi32_epi16(round_bits(u)));
    }
    if (i < n) {
        const __mmask16 m = first(n - i);
        _mm512_mask_cvtepi32_storeu_epi16(y + i, m, round_bits(_mm512_maskz_loadu_epi32(m, x + i)));
    }
}

__attribute__((target("avx512bf16,avx512f,avx512bw,avx512vl,avx512dq")))
void avx512bf16_f32_to_bf16(const float* x, kiln_bf16* y, int64_t n) {
    const __m512i exponent = _mm512_set1_epi32(0x7f800000), mantissa = _mm512_set1_epi32(0x007fffff);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = first(n - i);
        const __m512i u = _mm512_maskz_loadu_epi32(m, x + i);
        __m256i r = (__m256i)_mm512_cvtneps_pbh(_mm512_castsi512_ps(u));
        // Subnormal lanes (exponent 0, mantissa not 0): rare, and then the integer rounding is the right answer.
        const __mmask16 subnormal = _mm512_testn_epi32_mask(u, exponent) & _mm512_test_epi32_mask(u, mantissa);
        if (subnormal) r = _mm256_mask_mov_epi16(r, subnormal, _mm512_cvtepi32_epi16(round_bits(u)));
        _mm256_mask_storeu_epi16(y + i, m, r);
    }
}

void avx512_bf16_to_f32(const kiln_bf16* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = first(n - i);
        const __m256i h = _mm256_maskz_loadu_epi16(m, x + i);
        _mm512_mask_storeu_epi32(y + i, m, _mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
}

}  // namespace kiln::cpu::convert_detail

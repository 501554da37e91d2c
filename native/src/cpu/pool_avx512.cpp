// AVX-512 rows of 2x2 stride-2 unpadded max pooling (every CNN's pool), forward and backward: 16 outputs per step,
// the even and odd input columns split out of two 16-float loads by one permute each. Same comparisons in the same
// window order as the generic loops in pool.cpp (pool_max_beats), so the bits and indices are identical. Compiled
// with -mavx512f etc.; pool.cpp calls it only after the dispatch saw AVX-512.
#include <immintrin.h>

#include "cpu/pool_avx512.h"

namespace kiln::cpu::pool_detail {
namespace {

inline __mmask16 first(int64_t n) {
    return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n > 0 ? n : 0)) - 1);
}

// Columns 2 j (even) and 2 j + 1 (odd) of row for j < n, n <= 16.
inline void split_columns(const float* row, int64_t n, __m512& even, __m512& odd) {
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512 lo = _mm512_maskz_loadu_ps(first(2 * n), row);
    const __m512 hi = _mm512_maskz_loadu_ps(first(2 * n - 16), row + 16);
    even = _mm512_permutex2var_ps(lo, ie, hi);
    odd = _mm512_permutex2var_ps(lo, io, hi);
}

// pool_max_beats(v, best) lane by lane: v is larger, or NaN while best is not.
inline __mmask16 beats(__m512 v, __m512 best) {
    const __mmask16 best_ordered = _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q);
    const __mmask16 larger = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    return best_ordered & (larger | nan);
}

}  // namespace

void avx512_max_row_2x2(const float* x0, const float* x1, int64_t q, int32_t base0, int32_t base1, float* y,
                        int32_t* index) {
    const __m512i two_j = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (int64_t o = 0; o < q; o += 16) {
        const int64_t n = q - o < 16 ? q - o : 16;
        __m512 a, b, c, d;  // window order: (r0, 2j), (r0, 2j + 1), (r1, 2j), (r1, 2j + 1)
        split_columns(x0 + 2 * o, n, a, b);
        split_columns(x1 + 2 * o, n, c, d);
        const __m512i col = _mm512_add_epi32(two_j, _mm512_set1_epi32(static_cast<int32_t>(2 * o)));
        const __m512i i0 = _mm512_add_epi32(col, _mm512_set1_epi32(base0));
        const __m512i i1 = _mm512_add_epi32(col, _mm512_set1_epi32(base1));
        const __m512i one = _mm512_set1_epi32(1);
        __m512 best = a;
        __m512i arg = i0;
        __mmask16 t = beats(b, best);
        best = _mm512_mask_mov_ps(best, t, b);
        arg = _mm512_mask_mov_epi32(arg, t, _mm512_add_epi32(i0, one));
        t = beats(c, best);
        best = _mm512_mask_mov_ps(best, t, c);
        arg = _mm512_mask_mov_epi32(arg, t, i1);
        t = beats(d, best);
        best = _mm512_mask_mov_ps(best, t, d);
        arg = _mm512_mask_mov_epi32(arg, t, _mm512_add_epi32(i1, one));
        _mm512_mask_storeu_ps(y + o, first(n), best);
        _mm512_mask_storeu_epi32(index + o, first(n), arg);
    }
}

void avx512_max_backward_row_2x2(const float* dy, const int32_t* index, int64_t q, int32_t base0, int32_t base1,
                                 float* dx0, float* dx1) {
    const __m512i two_j = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i ihi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t o = 0; o < q; o += 16) {
        const int64_t n = q - o < 16 ? q - o : 16;
        const __m512 g = _mm512_maskz_loadu_ps(first(n), dy + o);
        const __m512i idx = _mm512_maskz_loadu_epi32(first(n), index + o);
        const __m512i col = _mm512_add_epi32(two_j, _mm512_set1_epi32(static_cast<int32_t>(2 * o)));
        const __m512i i0 = _mm512_add_epi32(col, _mm512_set1_epi32(base0));
        const __m512i i1 = _mm512_add_epi32(col, _mm512_set1_epi32(base1));
        const __m512i one = _mm512_set1_epi32(1);
        // Each input lies in exactly one window: it gets 0 + dy where the window's index names it, else 0 (the
        // generic loop's zero fill plus one add, including -0 + 0 = +0). Any other index, corrupt ones included,
        // names no element of the window and adds nothing.
        const __m512 a = _mm512_add_ps(zero, _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(idx, i0), g));
        const __m512 b = _mm512_add_ps(zero, _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(idx, _mm512_add_epi32(i0, one)), g));
        const __m512 c = _mm512_add_ps(zero, _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(idx, i1), g));
        const __m512 d = _mm512_add_ps(zero, _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(idx, _mm512_add_epi32(i1, one)), g));
        const int64_t cols = 2 * n;  // input columns 2 o .. 2 o + 2 n - 1
        _mm512_mask_storeu_ps(dx0 + 2 * o, first(cols), _mm512_permutex2var_ps(a, ilo, b));
        _mm512_mask_storeu_ps(dx1 + 2 * o, first(cols), _mm512_permutex2var_ps(c, ilo, d));
        if (cols > 16) {
            _mm512_mask_storeu_ps(dx0 + 2 * o + 16, first(cols - 16), _mm512_permutex2var_ps(a, ihi, b));
            _mm512_mask_storeu_ps(dx1 + 2 * o + 16, first(cols - 16), _mm512_permutex2var_ps(c, ihi, d));
        }
    }
}

}  // namespace kiln::cpu::pool_detail

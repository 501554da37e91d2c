// AVX-512 lanes of the Winograd F(2x2, 3x3) tile transforms (conv2d_winograd_tiles.h): one chunk of up to 16 tiles per
// zmm, half a's tiles in lanes 0..7 and half b's in lanes 8..15. One masked 16-column load per half and a two-source
// permute give the even or odd columns of both halves at once. Where half a is short of 8 tiles, the lanes are
// compressed to contiguous slots on the way out (and expanded on the way in). Compiled with -mavx512f etc.; called
// only after the dispatch saw AVX-512.
#include <immintrin.h>

#include <cstdint>

#include "cpu/conv2d_winograd_tiles.h"

namespace kiln::cpu::winograd {
namespace {

struct Avx512Chunk {
    using R = __m512;
    using Cols = __mmask16;

    static R zero() { return _mm512_setzero_ps(); }
    static R set1(float x) { return _mm512_set1_ps(x); }
    static R add(R a, R b) { return _mm512_add_ps(a, b); }
    static R sub(R a, R b) { return _mm512_sub_ps(a, b); }

    // Lanes l with 0 <= start + l < limit.
    static Cols inside(int64_t start, int64_t limit) {
        const int64_t lo = start < 0 ? -start : 0, hi = limit - start < 16 ? limit - start : 16;
        if (hi <= lo) return 0;
        return static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1));
    }
    // The first n lanes (n may be <= 0 or > 16).
    static Cols first(int64_t n) {
        return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n > 0 ? n : 0)) - 1);
    }
    static Cols none() { return 0; }
    static bool any(Cols m) { return m != 0; }
    static R load(Cols m, const float* p) { return m ? _mm512_maskz_loadu_ps(m, p) : _mm512_setzero_ps(); }

    static void split(R lo, R hi, R& even, R& odd) {
        const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        even = _mm512_permutex2var_ps(lo, ie, hi);
        odd = _mm512_permutex2var_ps(lo, io, hi);
    }

    struct Lanes {
        __mmask16 used;  // lanes holding tiles: a's, then b's from lane 8
        __mmask16 out;   // the same count of contiguous slots
        bool gaps;       // a is short of 8 tiles and b has some: lanes and slots differ
    };
    static Lanes lanes_of(const Chunk& ch) {
        Lanes l;
        l.used = static_cast<__mmask16>(first(ch.a.n) | (first(ch.b.n) << 8));
        l.out = first(ch.a.n + ch.b.n);
        l.gaps = ch.a.n < 8 && ch.b.n > 0;
        return l;
    }
    static void store_slots(float* o, const Lanes& l, R v) {
        _mm512_mask_storeu_ps(o, l.out, l.gaps ? _mm512_maskz_compress_ps(l.used, v) : v);
    }
    static R load_slots(const float* p, const Lanes&) { return _mm512_loadu_ps(p); }
    static R slots_to_lanes(const Lanes& l, R v) { return l.gaps ? _mm512_maskz_expand_ps(l.used, v) : v; }

    // Columns 2 j and 2 j + 1 interleaved: lanes 0..7 (half a) and 8..15 (half b), 16 floats each.
    static void store_out(float* pa, Cols ca, float* pb, Cols cb, R y0, R y1) {
        const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const __m512i ihi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        if (ca) _mm512_mask_storeu_ps(pa, ca, _mm512_permutex2var_ps(y0, ilo, y1));
        if (cb) _mm512_mask_storeu_ps(pb, cb, _mm512_permutex2var_ps(y0, ihi, y1));
    }
};

using T = Transforms<Avx512Chunk>;

}  // namespace

const Kernels& avx512_kernels() {
    // Every direction from 8 channels each way: the transforms' cost per tile and channel is small against 16 lanes of
    // GEMM (a first layer with one input channel has nothing to gain).
    constexpr Reach kFrom8{8, 8, 0};
    static const Kernels k{"avx512", T::input, T::output, T::grad_output, kFrom8, kFrom8, kFrom8};
    return k;
}

}  // namespace kiln::cpu::winograd

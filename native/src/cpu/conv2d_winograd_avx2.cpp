// AVX2 lanes of the Winograd F(2x2, 3x3) tile transforms (conv2d_winograd_tiles.h): a chunk's halves in two ymm
// registers, half a's up to 8 tiles in one and half b's in the other. Each half keeps its own register from the load to
// the store, so its tiles go to their slots (a's from the chunk's first, b's right after) with plain stores of 8, 4,
// 2 and 1 lanes: no compress or expand, which AVX2 lacks, and no masked store, which costs about ten plain ones on
// AMD's cores. Masked loads still make the zero padding. Compiled with -mavx2 -mfma; called only after the dispatch
// saw AVX2.
#include <immintrin.h>

#include <cstdint>

#include "cpu/avx2_math.h"
#include "cpu/conv2d_winograd_tiles.h"

namespace kiln::cpu::winograd {
namespace {

using L = avx2::Lanes;

struct Avx2Chunk {
    struct R {
        __m256 a, b;  // half a's tiles, half b's
    };
    struct Cols {
        int32_t lo, hi;  // columns lo <= l < hi of a 16-column window
    };
    struct Wide {
        __m256 lo, hi;  // columns 0..7 and 8..15 of a window
    };

    static R zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
    static R set1(float x) { return {_mm256_set1_ps(x), _mm256_set1_ps(x)}; }
    static R add(R x, R y) { return {_mm256_add_ps(x.a, y.a), _mm256_add_ps(x.b, y.b)}; }
    static R sub(R x, R y) { return {_mm256_sub_ps(x.a, y.a), _mm256_sub_ps(x.b, y.b)}; }

    static Cols inside(int64_t start, int64_t limit) {
        const int64_t lo = start < 0 ? -start : 0, hi = limit - start < 16 ? limit - start : 16;
        return hi <= lo ? none() : Cols{static_cast<int32_t>(lo), static_cast<int32_t>(hi)};
    }
    static Cols first(int64_t n) { return Cols{0, static_cast<int32_t>(n <= 0 ? 0 : n >= 16 ? 16 : n)}; }
    static Cols none() { return Cols{0, 0}; }
    static bool any(Cols m) { return m.hi > m.lo; }

    // Columns [from, from + 8) of the window, masked to m.
    static __m256 load8(Cols m, const float* p, int from) {
        if (m.lo <= from && m.hi >= from + 8) return _mm256_loadu_ps(p + from);
        if (m.lo >= from + 8 || m.hi <= from) return _mm256_setzero_ps();
        const __m256i col = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(from));
        const __m256i in = _mm256_and_si256(_mm256_cmpgt_epi32(col, _mm256_set1_epi32(m.lo - 1)),
                                            _mm256_cmpgt_epi32(_mm256_set1_epi32(m.hi), col));
        return _mm256_maskload_ps(p + from, in);  // lanes out of the mask are not read
    }
    static Wide load(Cols m, const float* p) { return {load8(m, p, 0), load8(m, p, 8)}; }

    static void split(const Wide& wa, const Wide& wb, R& even, R& odd) {
        L::split(wa.lo, wa.hi, even.a, odd.a);
        L::split(wb.lo, wb.hi, even.b, odd.b);
    }

    struct Lanes {
        int32_t na, nb;  // tiles of half a (slots 0..na-1) and of half b (the next nb slots)
    };
    static Lanes lanes_of(const Chunk& ch) { return Lanes{ch.a.n, ch.b.n}; }
    static void store_slots(float* o, const Lanes& l, R v) {
        L::store_first(o, l.na, v.a);
        L::store_first(o + l.na, l.nb, v.b);
    }
    // Whole registers from each half's first slot: the caller's slack covers the 16 floats past the chunk's start.
    static R load_slots(const float* p, const Lanes& l) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + l.na)}; }
    static R slots_to_lanes(const Lanes&, R v) { return v; }

    // One half's first `count` interleaved columns y0[0] y1[0] y0[1] y1[1] ... to p.
    static void store_half(float* p, int32_t count, __m256 y0, __m256 y1) {
        __m256 lo, hi;
        L::interleave(y0, y1, lo, hi);
        L::store_first2(p, count, lo, hi);
    }
    static void store_out(float* pa, Cols ca, float* pb, Cols cb, R y0, R y1) {
        if (any(ca)) store_half(pa, ca.hi, y0.a, y1.a);
        if (any(cb)) store_half(pb, cb.hi, y0.b, y1.b);
    }
};

using T = Transforms<Avx2Chunk>;

}  // namespace

// Where the transforms beat the AVX2 implicit GEMM, from the three directions timed both ways on a 2-core AVX2 EPYC
// (N = 64 or 32; time with Winograd over time without). Forward wins from 16 channels each way (c16 k32 26x26 and
// 28x28: 0.90-0.94x; c32 k64 13x13, the CNN's second layer: 0.80x; c64 k64 56x56: 0.55x) and loses at c8 k16
// (1.23-1.25x). Backward-data of an unpadded layer loses (c16-c32, 11x11 to 28x28: 1.21-1.33x) or breaks even (c64,
// 13x13: 0.97-1.01x) and wins padded (c32-c128, 7x7 to 56x56: 0.54-0.93x). Backward-weight wins from 64 output
// channels (c32-c128, 7x7 to 56x56: 0.64-0.98x) and is mixed at 32 (0.87-1.09x).
const Kernels& avx2_kernels() {
    static const Kernels k{"avx2", T::input, T::output, T::grad_output, Reach{16, 16, 0}, Reach{16, 16, 1},
                           Reach{16, 64, 0}};
    return k;
}

}  // namespace kiln::cpu::winograd

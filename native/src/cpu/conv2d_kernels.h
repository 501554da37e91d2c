// Internals of the CPU conv2d shared between its files (conv2d.cpp, conv2d_gemm.cpp, conv2d_winograd*.cpp,
// conv2d_avx512.cpp, conv2d_avx2.cpp): the per-ISA tiles and packing hooks, one text instantiated per ISA, and the
// algorithms' entries.
#pragma once

#include <cstdint>

#include "common/conv_geometry.h"
#include "conv2d.h"
#include "cpu/sgemm.h"

namespace kiln::cpu {

namespace winograd {
struct Kernels;  // conv2d_winograd.h
}

namespace conv2d_detail {

// Forward and backward-data run the GEMM's micro-kernel template (sgemm.h) with a register tile of the conv's own
// choosing (conv2d_avx512.cpp): its rows are filters or taps, counts like 32, 64 and 9 c, which want a tile height
// that divides them, whatever shape suits the plain GEMM best.
const gemm_detail::KernelSet& avx512_conv_gemm();
const gemm_detail::KernelSet& avx512_conv_gemm_narrow();  // 4 rows: for products with few rows, like 9 taps

// Backward-weight tile: out (MR, NR) += A (MR, L) * B (L, NR), with L = 16 * groups. A is the im2col rows of MR taps
// stored "k16-interleaved": A(i, 16 g + t) at a[g * MR * 16 + i * 16 + t], so im2col writes whole 16-float runs and
// the kernel finds all MR broadcasts of one step at fixed offsets from one pointer. B is dy transposed, packed as
// B(l, j) at b[l * NR + j]. out has leading dimension ldo.
struct WgradKernels {
    const char* isa;
    int mr, nr;
    void (*tile)(int64_t groups, const float* a, const float* b, float* out, int64_t ldo);
    // B panel (L, nr) from up to nr dy rows, transposed: panel[l * nr + j] = rows[j][l] for j < nrows and l < len,
    // else 0. L is a multiple of 16; nothing past rows[j][len - 1] is read.
    void (*pack_b)(const float* const* rows, int nrows, int64_t len, int64_t L, float* panel);
    // Row i of a k16-interleaved A panel (mr rows, `groups` groups) from row[0, len); zeros up to 16 * groups.
    void (*pack_a_row)(const float* row, int64_t len, int64_t groups, int i, float* panel);
};

const WgradKernels& avx512_wgrad();    // conv2d_avx512.cpp; call only where the CPU has AVX-512
const WgradKernels& avx2_wgrad();      // conv2d_avx2.cpp; call only where the CPU has AVX2 and FMA
const WgradKernels& baseline_wgrad();  // conv2d.cpp

namespace {  // internal linkage: each ISA's file gets its own copy, built with its flags

// The portable packing hooks of WgradKernels, for a tile of NR columns and MR rows: a plain transpose of the dy rows
// into the B panel (the AVX-512 set transposes 16 x 16 blocks in registers instead) and a k16-interleaved A row.
template <int NR>
void pack_b_portable(const float* const* rows, int nrows, int64_t len, int64_t L, float* panel) {
    for (int64_t l = 0; l < L; ++l)
        for (int j = 0; j < NR; ++j) panel[l * NR + j] = (j < nrows && l < len) ? rows[j][l] : 0.0f;
}

template <int MR>
void pack_a_row_portable(const float* row, int64_t len, int64_t groups, int i, float* panel) {
    for (int64_t g = 0; g < groups; ++g)
        for (int t = 0; t < 16; ++t) panel[g * MR * 16 + i * 16 + t] = g * 16 + t < len ? row[g * 16 + t] : 0.0f;
}

}  // namespace

// The one text of the tile, instantiated once per ISA with vector traits V (internal linkage in each ISA's file):
// V::reg, V::W, zero(), load(p), store(p, r), bcast(p), fma(a, b, c) = a * b + c, add(a, b).
template <class V, int MR, int NV>
struct WgradTile {
    static constexpr int NR = NV * V::W;
    using reg = typename V::reg;

    static void tile(int64_t groups, const float* a, const float* b, float* out, int64_t ldo) {
        reg acc[MR][NV];
#pragma GCC unroll 32
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int j = 0; j < NV; ++j) acc[i][j] = V::zero();
        for (int64_t g = 0; g < groups; ++g, a += MR * 16, b += 16 * NR) {
#pragma GCC unroll 16
            for (int t = 0; t < 16; ++t) {
                reg bv[NV];
#pragma GCC unroll 8
                for (int j = 0; j < NV; ++j) bv[j] = V::load(b + t * NR + j * V::W);
#pragma GCC unroll 32
                for (int i = 0; i < MR; ++i) {
                    const reg av = V::bcast(a + i * 16 + t);
#pragma GCC unroll 8
                    for (int j = 0; j < NV; ++j) acc[i][j] = V::fma(av, bv[j], acc[i][j]);
                }
            }
        }
#pragma GCC unroll 32
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int j = 0; j < NV; ++j) {
                float* p = out + i * ldo + j * V::W;
                V::store(p, V::add(V::load(p), acc[i][j]));
            }
    }
};

// Backward-weight for few taps (c r s small, as in a first layer), in "dot" form: out (MR, TK) += A (MR, pos) .
// D (TK, pos)^T summed over `images` images, the vectors running along the positions. A is the k16-interleaved
// im2col of each image (as above; image i's groups start at a + i * a_img), D is dy itself: filter j of image i is
// the row d + j * d_row + i * d_img, read in place (no transpose of dy, which is what makes few taps expensive in the
// GEMM form: each transposed dy element would feed only c r s multiply-adds). Each image has `groups` 16-position
// groups, the last with `tail` (1..16) valid positions (the rest of A is zero there; dy is not read past the tail).
// Rows j >= tk_valid of D are not read and not stored. The accumulators stay in registers across all images and are
// summed horizontally once, into out (leading dimension ldo) with +=.
struct DotKernels {
    int mr, tk;
    void (*tile)(const float* a, int64_t a_img, const float* d, int64_t d_row, int64_t d_img, int64_t images,
                 int64_t groups, int tail, int tk_valid, float* out, int64_t ldo);
};

// The forward's last step: scratch tile rows to y rows plus bias, run by run (see baseline_copy_runs in conv2d.cpp).
using CopyRuns = void (*)(const float* src, int64_t lds, float* dst, int64_t ldd, int64_t rows, const float* bias,
                          const int64_t* runs, int64_t nruns);
void avx512_copy_runs(const float* src, int64_t lds, float* dst, int64_t ldd, int64_t rows, const float* bias,
                      const int64_t* runs, int64_t nruns);

void avx512_add_to(float* dst, const float* src, int64_t n);  // dst[i] += src[i]

// The dot tiles an ISA offers, best first for a given tap count: dot_kernels(isa)[i] for i < count.
const DotKernels* avx512_dot(int* count);
const DotKernels* avx2_dot(int* count);
const DotKernels* baseline_dot(int* count);

// V additionally needs load_partial(p, n) (lanes >= n zero, nothing read there) and hsum(r).
template <class V, int MR, int TK>
struct DotTile {
    using reg = typename V::reg;
    static constexpr int S = 16 / V::W;  // vectors per 16-position group

    static void tile(const float* a, int64_t a_img, const float* d, int64_t d_row, int64_t d_img, int64_t images,
                     int64_t groups, int tail, int tk_valid, float* out, int64_t ldo) {
        reg acc[MR][TK][S];
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int j = 0; j < TK; ++j)
#pragma GCC unroll 4
                for (int v = 0; v < S; ++v) acc[i][j][v] = V::zero();
        int64_t d_off[TK];
#pragma GCC unroll 8
        for (int j = 0; j < TK; ++j) d_off[j] = (j < tk_valid ? j : 0) * d_row;

        for (int64_t img = 0; img < images; ++img, a += a_img, d += d_img) {
            const float* ap = a;
            for (int64_t g = 0; g + 1 < groups; ++g, ap += MR * 16) step(ap, d, d_off, g * 16, 16, acc);
            step(ap, d, d_off, (groups - 1) * 16, tail, acc);
        }
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int j = 0; j < TK; ++j) {
                if (j >= tk_valid) continue;
                reg t = acc[i][j][0];
#pragma GCC unroll 4
                for (int v = 1; v < S; ++v) t = V::add(t, acc[i][j][v]);
                out[i * ldo + j] += V::hsum(t);
            }
    }

  private:
    // One 16-position group at position `pos` of the image, `valid` of them real.
    static inline __attribute__((always_inline)) void step(const float* ap, const float* d, const int64_t (&d_off)[TK],
                                                           int64_t pos, int valid, reg (&acc)[MR][TK][S]) {
#pragma GCC unroll 4
        for (int v = 0; v < S; ++v) {
            reg dv[TK];
            const int n = valid - v * V::W;
            if (n <= 0) break;
#pragma GCC unroll 8
            for (int j = 0; j < TK; ++j) {
                const float* p = d + d_off[j] + pos + v * V::W;
                dv[j] = n >= V::W ? V::load(p) : V::load_partial(p, n);
            }
#pragma GCC unroll 16
            for (int i = 0; i < MR; ++i) {
                const reg av = V::load(ap + i * 16 + v * V::W);
#pragma GCC unroll 8
                for (int j = 0; j < TK; ++j) acc[i][j][v] = V::fma(av, dv[j], acc[i][j][v]);
            }
        }
    }
};

// The kernels the dispatch (conv2d.cpp) picked for this CPU, which every algorithm draws on.
struct ConvKernels {
    const gemm_detail::KernelSet* gemm;
    // A shorter tile for GEMMs with few rows (9 taps of one channel), or NULL.
    const gemm_detail::KernelSet* gemm_narrow;
    const WgradKernels* wgrad;
    const DotKernels* dot;
    int ndot;
    CopyRuns copy_runs;
    void (*add_to)(float* dst, const float* src, int64_t n);  // dst[i] += src[i]: the col2im of unit stride
    const winograd::Kernels* wino;  // the 3x3 stride-1 transforms, or NULL where this ISA has none
};

// The implicit GEMM (conv2d_gemm.cpp), same contracts as the entries above; backward-weight needs n > 0.
void gemm_forward(const ConvKernels& is, const conv::Geometry& g, const float* x, const float* w, const float* bias,
                  float* y);
void gemm_backward_data(const ConvKernels& is, const conv::Geometry& g, const float* dy, const float* w, float* dx);
void gemm_backward_weight(const ConvKernels& is, const conv::Geometry& g, const float* x, const float* dy, float* dw,
                          float* dbias);
// Scratch floats the largest of the directions named takes for this shape.
int64_t gemm_workspace_floats(const ConvKernels& is, const conv::Geometry& g, bool forward, bool data, bool weight);

}  // namespace conv2d_detail
}  // namespace kiln::cpu

// AVX-512 kernels of the CPU conv2d (conv2d_kernels.h): the forward / backward-data GEMM tiles, the backward-weight
// tiles (GEMM form and dot form), dy transpose and im2col packing, and the masked run copies. Compiled with -mavx512f
// etc.; conv2d.cpp calls into it only after __builtin_cpu_supports said the CPU has AVX-512.
#include <immintrin.h>

// GCC 12's own AVX-512 headers trip -Wmaybe-uninitialized inside the unpack and reduce intrinsics (their
// _mm512_undefined_ps self-initialization); the warning is about the header, not this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "cpu/conv2d_kernels.h"
#include "cpu/simd.h"

namespace kiln::cpu::conv2d_detail {
namespace {

using simd::Avx512;

// Forward and backward-data GEMM tile: 8 rows x 48 columns (24 accumulators, 3 loads + 8 broadcasts per step).
// Rows are filters (32, 64) or taps (9 c), which 8 divides; measured on Zen 5 against 6x64 (the plain GEMM's),
// 4x96, 12x32 and 14x32: best on the CNN's second layer and level with the rest elsewhere.
using GemmTile = gemm_detail::MicroTile<Avx512, 8, 3>;
using NarrowTile = gemm_detail::MicroTile<Avx512, 4, 6>;  // 24 accumulators, 6 loads + 4 broadcasts per step

// 14 taps x 32 filters, the shape of the GEMM's AVX-512 tile and for the same reason: 28 accumulators + 2 B
// registers + 1 broadcast of the 32 zmm registers, 28 FMAs per 2 loads and 14 broadcasts.
constexpr int kWgradMR = 14;
using Tile = WgradTile<Avx512, kWgradMR, 2>;

// Dot tiles: MR taps x TK filters accumulators plus TK dy vectors and one A vector within the 32 registers; MR + TK
// loads feed MR * TK FMAs. 9 taps first: a 3x3 kernel on one input channel, the layer this form exists for.
using Dot9 = DotTile<Avx512, 9, 3>;
using Dot8 = DotTile<Avx512, 8, 3>;
using Dot6 = DotTile<Avx512, 6, 4>;
using Dot4 = DotTile<Avx512, 4, 6>;

inline __mmask16 first(int64_t n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n > 0 ? n : 0)) - 1); }

// dy^T into the backward-weight B panel, 16 x 16 blocks at a time: the scalar transpose it replaces cost as much as
// the tile's arithmetic on 288-tap layers.
void wgrad_pack_b(const float* const* rows, int nrows, int64_t len, int64_t L, float* panel) {
    constexpr int NR = Tile::NR;
    static_assert(NR % 16 == 0, "whole 16 x 16 blocks");
    for (int64_t l0 = 0; l0 < L; l0 += 16) {
        const __mmask16 m = first(len - l0);
        for (int jb = 0; jb < NR; jb += 16) {
            __m512 r[16];
            for (int j = 0; j < 16; ++j)
                r[j] = (jb + j < nrows && m) ? _mm512_maskz_loadu_ps(m, rows[jb + j] + l0) : _mm512_setzero_ps();
            Avx512::transpose16_regs(r);
            for (int l = 0; l < 16; ++l) _mm512_storeu_ps(panel + (l0 + l) * NR + jb, r[l]);
        }
    }
}

void wgrad_pack_a_row(const float* row, int64_t len, int64_t groups, int i, float* panel) {
    float* dst = panel + i * 16;
    for (int64_t g = 0; g < groups; ++g, dst += kWgradMR * 16) {
        const __mmask16 m = first(len - g * 16);
        _mm512_storeu_ps(dst, m ? _mm512_maskz_loadu_ps(m, row + g * 16) : _mm512_setzero_ps());
    }
}

}  // namespace

// Masked vectors make the short runs of small images (11 floats for a 13x13 input) one load and one store each.
void avx512_copy_runs(const float* src, int64_t lds, float* dst, int64_t ldd, int64_t rows, const float* bias,
                      const int64_t* runs, int64_t nruns) {
    for (int64_t r = 0; r < rows; ++r) {
        const __m512 b = _mm512_set1_ps(bias ? bias[r] : 0.0f);
        for (int64_t u = 0; u < nruns; ++u) {
            const float* s = src + r * lds + runs[3 * u];
            float* d = dst + r * ldd + runs[3 * u + 1];
            const int64_t n = runs[3 * u + 2];
            int64_t i = 0;
            for (; i + 16 <= n; i += 16) _mm512_storeu_ps(d + i, _mm512_add_ps(_mm512_loadu_ps(s + i), b));
            if (i < n) {
                const __mmask16 m = first(n - i);
                _mm512_mask_storeu_ps(d + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, s + i), b));
            }
        }
    }
}

void avx512_add_to(float* dst, const float* src, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_add_ps(_mm512_loadu_ps(dst + i), _mm512_loadu_ps(src + i)));
    if (i < n) {
        const __mmask16 m = first(n - i);
        const __m512 sum = _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst + i), _mm512_maskz_loadu_ps(m, src + i));
        _mm512_mask_storeu_ps(dst + i, m, sum);
    }
}

const DotKernels* avx512_dot(int* count) {
    static const DotKernels k[] = {{9, 3, Dot9::tile}, {8, 3, Dot8::tile}, {6, 4, Dot6::tile}, {4, 6, Dot4::tile}};
    *count = 4;
    return k;
}

const gemm_detail::KernelSet& avx512_conv_gemm() {
    // kc = 192: a B micro-panel (192, 48) is 36 KiB and stays in L1 while the A panels pass (measured best of
    // 96..384 on ResNet 3x3 with two threads); nc unused (the conv picks its own block length).
    static const gemm_detail::KernelSet ks{"avx512", 8, GemmTile::NR, 8 * 256, 192, 384, GemmTile::pack_a,
                                           GemmTile::pack_b, GemmTile::kernel, GemmTile::kernel_in_place};
    return ks;
}

const gemm_detail::KernelSet& avx512_conv_gemm_narrow() {
    static const gemm_detail::KernelSet ks{"avx512", 4, NarrowTile::NR, 4 * 512, 192, 384, NarrowTile::pack_a,
                                           NarrowTile::pack_b, NarrowTile::kernel, NarrowTile::kernel_in_place};
    return ks;
}

const WgradKernels& avx512_wgrad() {
    static const WgradKernels k{"avx512", kWgradMR, Tile::NR, Tile::tile, wgrad_pack_b, wgrad_pack_a_row};
    return k;
}

}  // namespace kiln::cpu::conv2d_detail

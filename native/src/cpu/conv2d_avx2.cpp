// AVX2 kernels of the CPU conv2d (conv2d_kernels.h) for CPUs with AVX2 and FMA but no AVX-512: the backward-weight
// tiles, GEMM form and dot form, as instances of the same templates the AVX-512 set uses, sized for 16 ymm registers.
// Forward and backward-data run the plain GEMM's AVX2 tile (gemm_avx2.cpp); packing, run copies and Winograd stay
// portable. Compiled with -mavx2 -mfma; conv2d.cpp calls into it only after isa() found AVX2.
#include "cpu/conv2d_kernels.h"
#include "cpu/simd.h"

namespace kiln::cpu::conv2d_detail {
namespace {

using simd::Avx2;

// 6 taps x 16 filters: 12 accumulators + 2 B registers + 1 broadcast of the 16 ymm registers, 12 FMAs per 2 loads
// and 6 broadcasts.
constexpr int kWgradMR = 6;
using Tile = WgradTile<Avx2, kWgradMR, 2>;

// Dot tiles: MR x TK x 2 accumulators (a 16-position group is two ymm) plus TK dy vectors and one A vector within
// the 16 registers. 3 taps first: 9 taps (a 3x3 kernel on one input channel) divide into it.
using Dot3 = DotTile<Avx2, 3, 2>;
using Dot2 = DotTile<Avx2, 2, 3>;
using Dot4 = DotTile<Avx2, 4, 1>;

}  // namespace

const DotKernels* avx2_dot(int* count) {
    static const DotKernels k[] = {{3, 2, Dot3::tile}, {2, 3, Dot2::tile}, {4, 1, Dot4::tile}};
    *count = 3;
    return k;
}

const WgradKernels& avx2_wgrad() {
    static const WgradKernels k{"avx2", kWgradMR, Tile::NR, Tile::tile, pack_b_portable<Tile::NR>,
                                pack_a_row_portable<kWgradMR>};
    return k;
}

}  // namespace kiln::cpu::conv2d_detail

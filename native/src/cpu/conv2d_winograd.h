// Winograd F(2x2, 3x3) for the CPU conv2d's 3x3 stride-1 layers: the driver (conv2d_winograd.cpp) and the contract
// with the per-ISA tile transforms (conv2d_winograd_tiles.h, built in conv2d_winograd_avx512.cpp and
// conv2d_winograd_avx2.cpp). conv2d.cpp picks this path where it applies.
//
// Why: a 3x3 convolution computed as 2x2 output tiles needs 16 multiplies per tile and channel pair instead of 36.
// Each tile's 4x4 input patch d becomes V = B^T d B, each 3x3 filter g becomes U = G g G^T, and the 16 "frequencies"
// xi of V and U are 16 independent GEMMs M[xi] (K, tiles) = U[xi] (K, C) * V[xi] (C, tiles), run on the conv's own
// GEMM micro-kernel; the output tile is A^T M A. The transforms are additions only (G has halves), so the result
// differs from the direct sum by a few rounding steps, not by an approximation.
//   B^T = | 1  0 -1  0 |    G = | 1    0    0   |    A^T = | 1  1  1  0 |
//         | 0  1  1  0 |        | 1/2  1/2  1/2 |          | 0  1 -1 -1 |
//         | 0 -1  1  0 |        | 1/2 -1/2  1/2 |
//         | 0  1  0 -1 |        | 0    0    1   |
// Backward-data is the forward of dy with the filters flipped and transposed (padding 2 - pad). Backward-weight runs
// the transforms' adjoints: dU[xi] (K, C) = sum over tiles of dM[xi] (K, tiles) * V[xi] (C, tiles)^T with
// dM = A dY A^T, and dw = G^T dU G.
//
// Tiles: tile (tr, tc) of an image covers output rows 2 tr + {0, 1} and columns 2 tc + {0, 1}; it reads input rows
// 2 tr - pad_h + {0..3} and columns 2 tc - pad_w + {0..3}, zeros outside the image. Tiles of the batch are numbered
// img * th * tw + tr * tw + tc; a block is a run of consecutive tile numbers (it may span images) and a tile's slot is
// its place in the block. The transforms take a block's tiles as chunks of one vector: two halves of at most 8
// consecutive tiles of one tile row each, half a in lanes 0..7 and half b (the tiles that follow, in the same row or
// the next) in lanes 8..15. A half's patches are then one 16-column window of each input row, so small images (13
// columns, 6 or 7 tiles a row) still fill most lanes. A chunk's slots are contiguous and never cross a multiple of
// the layouts' slot group (16 at least), so each chunk is one masked store per xi.
#pragma once

#include <cstdint>

#include "common/conv_geometry.h"
#include "cpu/conv2d_kernels.h"
#include "cpu/sgemm.h"

namespace kiln::cpu::winograd {

struct Half {
    int64_t img;        // image of the half's tiles
    int32_t tr, tc, n;  // tile row, first tile column, tiles (0..8; 0 only for an empty half b)
};
struct Chunk {
    Half a, b;     // lanes 0 .. a.n - 1 and 8 .. 8 + b.n - 1
    int32_t slot;  // slot of a's first tile; b's tiles follow at slot + a.n
};

// Where the value of (xi, row, slot) of a transform's output (or the output transform's input) lives: rows run in
// groups of `row_group` rows, `row_group_stride` apart, rows of a group `row_stride` apart; slots likewise in groups
// of `slot_group`; the 16 xi matrices are `xi_stride` apart. A plain row-major (rows, T) matrix per xi is
// {big, 0, T, T, 0, xi}; the GEMM's B panels of width nr (rows = channels) are {big, 0, nr, nr, rows * nr, xi}; the
// backward-weight tile's k16-interleaved A panels are {mr, T * mr, 16, 16, mr * 16, xi}.
struct Layout {
    int64_t row_group, row_group_stride, row_stride;
    int64_t slot_group, slot_group_stride;
    int64_t xi_stride;
    int64_t at(int64_t row, int64_t slot) const {
        return row / row_group * row_group_stride + row % row_group * row_stride + slot / slot_group * slot_group_stride +
               slot % slot_group;
    }
};

// NCHW planes: plane (i, c) is base + i * img_stride + c * ch_stride.
struct Planes {
    int64_t img_stride, ch_stride, channels, rows, cols;
};

// The three directions of a layer, each of which takes this path or the implicit GEMM on its own.
enum class Direction { forward, data, weight };

// Where an ISA's transforms beat its own implicit GEMM in one direction: the least input channels c and output
// channels k of the layer, and the least padding. Channels matter because the transforms cost per tile and channel
// what the GEMM saves per tile and channel pair; padding because backward-data of an unpadded layer is a "full"
// correlation (padding 2) whose tiles cover a small image's border with more waste.
struct Reach {
    int64_t min_c, min_k;
    int min_pad;
};

// The tile transforms of one ISA, each over all channels of a plane set and all chunks of a block, and where they pay.
struct Kernels {
    const char* isa;
    // V = B^T d B of each chunk's tiles of every input channel c of x: V(xi, c, slot) at dst + lay.at(c, slot) + xi *
    // lay.xi_stride.
    void (*input)(const float* x, Planes xp, int pad_h, int pad_w, const Chunk* chunks, int64_t nchunks, float* dst,
                  Layout lay);
    // y tile = A^T M A + bias[k] (bias may be NULL) for every output channel k of y, M(xi, k, slot) at m + lay.at(k,
    // slot) + xi * lay.xi_stride; writes the tile outputs that lie inside the planes.
    void (*output)(const float* m, Layout lay, const Chunk* chunks, int64_t nchunks, const float* bias, float* y,
                   Planes yp);
    // dM = A dY A^T of each chunk's tiles of every channel of dy (zeros outside the planes), written as `input`
    // writes V.
    void (*grad_output)(const float* dy, Planes dyp, const Chunk* chunks, int64_t nchunks, float* dst, Layout lay);
    Reach forward, data, weight;
};

const Kernels& avx512_kernels();  // conv2d_winograd_avx512.cpp; only where the CPU has AVX-512
const Kernels& avx2_kernels();    // conv2d_winograd_avx2.cpp; only where the CPU has AVX2 and FMA

// True where this path can compute direction d of the layer: 3x3, stride 1, dilation 1 (backward-data also needs
// pad <= 2); and where, besides, it pays on wk's ISA (wk's Reach for d).
bool applies(const conv::Geometry& g, Direction d);
bool pays(const Kernels& wk, const conv::Geometry& g, Direction d);

// The three directions, same contracts as conv2d.h's entries. gemm is the conv's GEMM tile (rows: filters).
void forward(const Kernels& wk, const gemm_detail::KernelSet& gemm, const conv::Geometry& g, const float* x,
             const float* w, const float* bias, float* y);
void backward_data(const Kernels& wk, const gemm_detail::KernelSet& gemm, const conv::Geometry& g, const float* dy,
                   const float* w, float* dx);

// Backward-weight runs the conv's backward-weight tile (conv2d_kernels.h's WgradKernels):
// out (mr, nr) += A (mr, 16 groups) k16-interleaved * B (L, nr).
void backward_weight(const Kernels& wk, const conv2d_detail::WgradKernels& tile, const conv::Geometry& g,
                     const float* x, const float* dy, float* dw, float* dbias);

// Scratch floats the largest of the directions named takes for this shape with num_threads() threads.
int64_t workspace_floats(const gemm_detail::KernelSet& gemm, const conv2d_detail::WgradKernels& tile,
                         const conv::Geometry& g, bool forward, bool data, bool weight);

}  // namespace kiln::cpu::winograd

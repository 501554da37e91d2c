// The transpose family on the GPU: y[o, c, m, r, i] = x[o, r, m, c, i] over (outer, rows, mid, cols, inner). With
// single floats (inner == 1) each block moves 32 x 32 tiles of an (o, m) plane through shared memory, so that it
// reads x along x's rows and writes y along y's rows, both coalesced; runs of a warp's width or more (an attention
// head's D floats) take a warp each; shorter runs a thread per element. In the last two, consecutive threads read and
// write consecutive floats within a run. A copy: the same bits as the CPU.
#include <cstdint>

#include "common/entry_backends.h"
#include "common/launch.h"

namespace kiln::cuda {

namespace {

constexpr int kTile = 32;        // tile side: one warp spans a tile's row
constexpr int kRowsPerPass = 8;  // the block is 32 x 8 threads, each moving four of the tile's elements
constexpr int kThreads = 256;

// Tiles of the (outer * mid) planes, numbered along x's columns first, grid-stride over the blocks. The shared tile has
// one column of padding so that reading a column touches 32 different banks.
__global__ void __launch_bounds__(kTile * kRowsPerPass)
    transpose_tile_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t tiles, int64_t rows, int64_t mid,
                          int64_t cols) {
    __shared__ float tile[kTile][kTile + 1];
    const int64_t row_tiles = (rows + kTile - 1) / kTile, col_tiles = (cols + kTile - 1) / kTile;
    for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
        int64_t q = t;
        const int64_t c0 = (q % col_tiles) * kTile;
        q /= col_tiles;
        const int64_t r0 = (q % row_tiles) * kTile;
        q /= row_tiles;
        const int64_t m = q % mid, o = q / mid;
        const float* xp = x + (o * rows * mid + m) * cols;  // x[o, r, m, c] = xp[r * mid * cols + c]
        float* yp = y + (o * cols * mid + m) * rows;        // y[o, c, m, r] = yp[c * mid * rows + r]
        const int64_t c = c0 + threadIdx.x;
        for (int j = threadIdx.y; j < kTile; j += kRowsPerPass) {
            const int64_t r = r0 + j;
            if (r < rows && c < cols) tile[j][threadIdx.x] = xp[r * mid * cols + c];
        }
        __syncthreads();
        const int64_t r = r0 + threadIdx.x;
        for (int j = threadIdx.y; j < kTile; j += kRowsPerPass) {
            const int64_t cy = c0 + j;
            if (cy < cols && r < rows) yp[cy * mid * rows + r] = tile[threadIdx.x][j];
        }
        __syncthreads();  // the tile is refilled by the next iteration
    }
}

// One element of y per thread, grid-stride: its (o, c, m, r, i) from its index, then the matching element of x.
template <typename Index>
__global__ void __launch_bounds__(kThreads)
    transpose_runs_kernel(const float* __restrict__ x, float* __restrict__ y, Index total, Index rows, Index mid,
                          Index cols, Index inner) {
    for (Index e = (Index)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (Index)gridDim.x * blockDim.x) {
        Index q = e / inner;
        const Index i = e - q * inner;
        const Index r = q % rows;
        q /= rows;
        const Index m = q % mid;
        q /= mid;
        const Index c = q % cols, o = q / cols;
        y[e] = x[(((o * rows + r) * mid + m) * cols + c) * inner + i];
    }
}

// Runs of at least a warp's width: one warp per run of y, grid-stride over the runs, its lanes moving the run's floats
// (coalesced on both sides). The run's place in x is decoded once per run, not per element as above: the divisions
// there cost more instructions than the copy itself.
constexpr int kWarpsPerBlock = kThreads / 32;
constexpr int64_t kMinWarpRun = 32;

template <typename Index>
__global__ void __launch_bounds__(kThreads)
    transpose_long_runs_kernel(const float* __restrict__ x, float* __restrict__ y, Index runs, Index rows, Index mid,
                               Index cols, Index inner) {
    for (Index run = (Index)blockIdx.x * kWarpsPerBlock + threadIdx.y; run < runs;
         run += (Index)gridDim.x * kWarpsPerBlock) {
        Index q = run;  // y's run (o, c, m, r)
        const Index r = q % rows;
        q /= rows;
        const Index m = q % mid;
        q /= mid;
        const Index c = q % cols, o = q / cols;
        const float* src = x + (((o * rows + r) * mid + m) * cols + c) * inner;
        float* dst = y + run * inner;
        for (Index i = threadIdx.x; i < inner; i += 32) dst[i] = src[i];
    }
}

}  // namespace

cudaError_t transpose_f32(cudaStream_t s, Scratch&, const float* x, float* y, int64_t outer, int64_t rows, int64_t mid,
                          int64_t cols, int64_t inner) {
    const int64_t total = outer * rows * mid * cols * inner;
    if (total <= 0) return cudaSuccess;
    if (inner == 1) {
        const int64_t tiles = outer * mid * ((rows + kTile - 1) / kTile) * ((cols + kTile - 1) / kTile);
        transpose_tile_kernel<<<grid_1d((size_t)tiles, 1), dim3(kTile, kRowsPerPass), 0, s>>>(x, y, tiles, rows, mid,
                                                                                              cols);
    } else if (inner >= kMinWarpRun) {
        const int64_t runs = total / inner;
        with_index_width(total, [&](auto index) {
            using Index = decltype(index);
            const dim3 block(32, kWarpsPerBlock);
            transpose_long_runs_kernel<Index><<<grid_1d((size_t)runs, kWarpsPerBlock), block, 0, s>>>(
                x, y, (Index)runs, (Index)rows, (Index)mid, (Index)cols, (Index)inner);
        });
    } else {
        with_index_width(total, [&](auto index) {
            using Index = decltype(index);
            transpose_runs_kernel<Index><<<grid_1d((size_t)total, kThreads), kThreads, 0, s>>>(
                x, y, (Index)total, (Index)rows, (Index)mid, (Index)cols, (Index)inner);
        });
    }
    return cudaGetLastError();
}

}  // namespace kiln::cuda

KILN_CUDA_LAUNCHER(transpose_f32);

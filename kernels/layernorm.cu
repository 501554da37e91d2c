// Layer norm on the GPU. Conventions: outputs are assigned, never accumulated; a row goes to one warp (cols <= 1024)
// or to one block (longer rows), grid-stride over rows. Statistics in one pass: each thread runs Welford over its
// elements, then the row's team merges the (count, mean, M2) states with Chan's formula written symmetrically, so
// merge(a, b) has the bits of merge(b, a) and the xor butterfly leaves every lane the same state; the same input
// gives the same bits on every run and every GPU. y is then a second pass over the row (mostly from L1/L2). Every pass
// over a row loads four of its thread's elements ahead (for_each_loaded, common/reduce_util.cuh).
// Backward: dx by the same row teams (two row sums, then the element-wise formula); dgamma and dbeta by a column
// kernel over (32-column tile, row split) blocks that writes one partial per split into scratch, and a kernel that
// adds the splits in split order: no atomics, and the split count is a function of the shape alone. The per-element
// formulas are kernels/common/layernorm_math.h, shared with native/src/cpu/layernorm.cpp.
#include <cstdint>

#include "common/launch.h"
#include "common/layernorm_math.h"
#include "common/reduce_util.cuh"
#include "layernorm.h"

namespace kiln::cuda {

namespace {

constexpr int kWarpRowThreads = 256;      // warp-per-row blocks: 8 rows each
constexpr int64_t kWarpMaxCols = 1024;    // a warp per row up to 32 elements per lane
constexpr int kColTile = 32;              // parameter-gradient blocks: 32 columns (one coalesced warp per row) ...
constexpr int kRowLanes = 8;              // ... by 8 row lanes
constexpr int kSumThreads = 256;

// Welford state of a run of values: count, mean, sum of squared deviations from the mean.
struct Moments {
    float n, mean, m2;
};

__device__ __forceinline__ Moments welford_add(Moments s, float x) {
    s.n = kiln_fadd(s.n, 1.0f);
    const float d = kiln_fadd(x, -s.mean);
    s.mean = kiln_fadd(s.mean, kiln_fdiv(d, s.n));
    // d and x - new mean have the same sign (the new mean lies between the old one and x): M2 never decreases.
    s.m2 = kiln_fadd(s.m2, kiln_fmul(d, kiln_fadd(x, -s.mean)));
    return s;
}

// Chan et al.'s merge, symmetric in a and b: the weighted mean ma (na / n) + mb (nb / n) instead of ma + d nb / n, and
// d only squared (b - a is exactly -(a - b)). An empty side returns the other unchanged. Nothing overflows unless the
// result does: the weights are <= 1 (na ma + nb mb passes FLT_MAX for |x| > FLT_MAX / cols, where the mean fits), and
// the M2 term is d (d w) with w = na nb / n, not (d d) w (d d passes FLT_MAX for |d| > 1.8e19 while d^2 w fits when
// w < 1, e.g. w = 1/2 for two single elements). One division, 1 / n: two more cost the warp kernel 7 registers.
__device__ __forceinline__ Moments merge(Moments a, Moments b) {
    if (a.n == 0.0f) return b;
    if (b.n == 0.0f) return a;
    const float n = kiln_fadd(a.n, b.n);
    const float d = kiln_fadd(b.mean, -a.mean);
    const float rn = kiln_fdiv(1.0f, n);
    const float mean = kiln_fadd(kiln_fmul(a.mean, kiln_fmul(a.n, rn)), kiln_fmul(b.mean, kiln_fmul(b.n, rn)));
    const float w = kiln_fmul(kiln_fmul(a.n, b.n), rn);
    const float m2 = kiln_fadd(kiln_fadd(a.m2, b.m2), kiln_fmul(d, kiln_fmul(d, w)));
    return Moments{n, mean, m2};
}

__device__ __forceinline__ Moments shfl_moments(Moments v, int m) {
    return Moments{__shfl_xor_sync(kFullMask, v.n, m), __shfl_xor_sync(kFullMask, v.mean, m),
                   __shfl_xor_sync(kFullMask, v.m2, m)};
}

// All 32 lanes call it; every lane returns the warp's merged state (the same bits: merge is commutative).
__device__ __forceinline__ Moments warp_merge(Moments v) {
#pragma unroll
    for (int m = 16; m > 0; m >>= 1) v = merge(v, shfl_moments(v, m));
    return v;
}

// Every thread of the block calls it (blockDim.x a multiple of 32); every thread returns the block's state.
__device__ __forceinline__ Moments block_merge(Moments v, Moments* smem /* [32] */) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = warp_merge(v);
    __syncthreads();  // readers of smem from the previous row are done
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    v = lane < nwarps ? smem[lane] : Moments{0.0f, 0.0f, 0.0f};
    return warp_merge(v);
}

// ---- forward -------------------------------------------------------------------------------------------------------

// y may alias x: each element is read for the statistics, the team syncs in the merge, then the same thread reads it
// again and writes it. Hence no __restrict__ on x and y.
template <bool kWarp>
__global__ void __launch_bounds__(kWarp ? kWarpRowThreads : 1024)
    layer_norm_forward_kernel(const float* x, const float* __restrict__ gamma, const float* __restrict__ beta, float* y,
                              float* __restrict__ mean_out, float* __restrict__ rstd_out, int64_t rows, int64_t cols,
                              float eps) {
    __shared__ Moments smem[32];
    using Team = RowTeam<kWarp>;
    const int rank = Team::rank(), size = Team::size();
    for (int64_t r = Team::first_row(); r < rows; r += Team::row_stride()) {
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        Moments m{0.0f, 0.0f, 0.0f};
        for_each_loaded(xr, rank, cols, size, [&](int64_t, float v) { m = welford_add(m, v); });
        if constexpr (kWarp) m = warp_merge(m);
        else m = block_merge(m, smem);
        const float mean = m.mean, rstd = ln_rstd(kiln_fdiv(m.m2, (float)cols), eps);
        if (rank == 0) {
            if (mean_out) mean_out[r] = mean;
            if (rstd_out) rstd_out[r] = rstd;
        }
        for_each_loaded(xr, rank, cols, size, [&](int64_t c, float v) {
            yr[c] = ln_apply(v, mean, rstd, gamma ? __ldg(gamma + c) : 1.0f, beta ? __ldg(beta + c) : 0.0f);
        });
    }
}

// ---- backward ------------------------------------------------------------------------------------------------------

// dx of each row: a = sum g, b = sum g xhat (g = dy gamma), reduced by the team in a fixed tree, then the element-wise
// formula. dy and dx carry no __restrict__: each element of dx is written by the thread that read that dy last.
template <bool kWarp>
__global__ void __launch_bounds__(kWarp ? kWarpRowThreads : 1024)
    layer_norm_dx_kernel(const float* __restrict__ x, const float* dy, const float* __restrict__ gamma,
                         const float* __restrict__ mean, const float* __restrict__ rstd, float* dx, int64_t rows,
                         int64_t cols) {
    __shared__ float smem[32];
    using Team = RowTeam<kWarp>;
    const int rank = Team::rank(), size = Team::size();
    for (int64_t r = Team::first_row(); r < rows; r += Team::row_stride()) {
        const float* xr = x + r * cols;
        const float* dyr = dy + r * cols;
        float* dxr = dx + r * cols;
        const float mu = __ldg(mean + r), rs = __ldg(rstd + r);
        float a = 0.0f, b = 0.0f;
        for_each_loaded(dyr, xr, rank, cols, size, [&](int64_t c, float d, float xv) {
            const float g = kiln_fmul(d, gamma ? __ldg(gamma + c) : 1.0f);
            a = kiln_fadd(a, g);
            b = kiln_fadd(b, kiln_fmul(g, ln_xhat(xv, mu, rs)));
        });
        a = Team::reduce(a, SumOp{}, 0.0f, smem);
        b = Team::reduce(b, SumOp{}, 0.0f, smem);
        const float mean_g = kiln_fdiv(a, (float)cols), mean_gxhat = kiln_fdiv(b, (float)cols);
        for_each_loaded(xr, dyr, rank, cols, size, [&](int64_t c, float xv, float d) {
            dxr[c] = ln_backward_dx(xv, d, gamma ? __ldg(gamma + c) : 1.0f, mu, rs, mean_g, mean_gxhat);
        });
    }
}

// Block (kColTile, kRowLanes) sums dy xhat (into gamma_out) and dy (into beta_out) over the rows of split blockIdx.y
// for the columns of tile blockIdx.x; row lanes stride through the split and are folded in shared memory in a fixed
// tree. Either output may be null. A warp reads one 32-column segment of a row: coalesced.
__global__ void __launch_bounds__(kColTile* kRowLanes)
    layer_norm_param_partials_kernel(const float* __restrict__ x, const float* __restrict__ dy,
                                     const float* __restrict__ mean, const float* __restrict__ rstd,
                                     float* __restrict__ gamma_out, float* __restrict__ beta_out, int64_t rows,
                                     int64_t cols, int64_t rows_per_split) {
    __shared__ float part_g[kRowLanes][kColTile];  // per row lane, the column tile's partial sums of dgamma
    __shared__ float part_b[kRowLanes][kColTile];  // and of dbeta
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int64_t col = blockIdx.x * (int64_t)kColTile + tx;
    const int64_t r0 = blockIdx.y * rows_per_split;
    const int64_t r1 = r0 + rows_per_split < rows ? r0 + rows_per_split : rows;
    float sg = 0.0f, sb = 0.0f;
    if (col < cols) {
        for (int64_t r = r0 + ty; r < r1; r += kRowLanes) {
            const float d = __ldg(dy + r * cols + col);
            if (gamma_out) sg = kiln_fadd(sg, kiln_fmul(d, ln_xhat(__ldg(x + r * cols + col), __ldg(mean + r), __ldg(rstd + r))));
            sb = kiln_fadd(sb, d);
        }
    }
    part_g[ty][tx] = sg;
    part_b[ty][tx] = sb;
    __syncthreads();
#pragma unroll
    for (int s = kRowLanes / 2; s > 0; s /= 2) {
        if (ty < s) {
            part_g[ty][tx] = kiln_fadd(part_g[ty][tx], part_g[ty + s][tx]);
            part_b[ty][tx] = kiln_fadd(part_b[ty][tx], part_b[ty + s][tx]);
        }
        __syncthreads();
    }
    if (ty == 0 && col < cols) {
        const int64_t o = blockIdx.y * cols + col;
        if (gamma_out) gamma_out[o] = part_g[0][tx];
        if (beta_out) beta_out[o] = part_b[0][tx];
    }
}

// dgamma[c] and dbeta[c] (either may be null) = the sum of the splits' partials (splits, cols), in split order.
__global__ void __launch_bounds__(kSumThreads)
    layer_norm_sum_splits_kernel(const float* __restrict__ part_g, const float* __restrict__ part_b,
                                 float* __restrict__ dgamma, float* __restrict__ dbeta, int64_t splits, int64_t cols) {
    for (int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; c < cols; c += (int64_t)gridDim.x * blockDim.x) {
        float g = 0.0f, b = 0.0f;
        for (int64_t s = 0; s < splits; ++s) {
            if (dgamma) g = kiln_fadd(g, __ldg(part_g + s * cols + c));
            if (dbeta) b = kiln_fadd(b, __ldg(part_b + s * cols + c));
        }
        if (dgamma) dgamma[c] = g;
        if (dbeta) dbeta[c] = b;
    }
}

// ---- launch configuration ------------------------------------------------------------------------------------------

// Threads of a row block: about 8 elements per thread, 128..1024.
int row_block_threads(int64_t cols) {
    int t = 128;
    while (t < 1024 && (int64_t)t * 8 < cols) t *= 2;
    return t;
}

// How the parameter gradients cut (rows, cols): enough (tile x split) blocks to fill a large GPU (~1024), each row
// lane summing at least 8 rows of its split. A function of the shape alone, so the sums are the same on any GPU.
struct SplitPlan {
    int64_t tiles, splits, rows_per_split;
};

SplitPlan plan_splits(int64_t rows, int64_t cols) {
    SplitPlan p;
    p.tiles = (cols + kColTile - 1) / kColTile;
    const int64_t target_blocks = 1024, min_rows = 8 * (int64_t)kRowLanes;
    int64_t splits = (target_blocks + p.tiles - 1) / p.tiles;
    const int64_t max_splits = (rows + min_rows - 1) / min_rows;
    if (splits > max_splits) splits = max_splits;
    if (splits > 65535) splits = 65535;
    if (splits < 1) splits = 1;
    p.rows_per_split = (rows + splits - 1) / splits;
    p.splits = p.rows_per_split > 0 ? (rows + p.rows_per_split - 1) / p.rows_per_split : 1;
    return p;
}

}  // namespace

cudaError_t layer_norm_f32(cudaStream_t s, const float* x, const float* gamma, const float* beta, float* y, float* mean,
                           float* rstd, int64_t rows, int64_t cols, float eps) {
    if (rows <= 0 || cols <= 0) return cudaSuccess;
    if (cols <= kWarpMaxCols) {
        layer_norm_forward_kernel<true><<<grid_1d((size_t)rows, kWarpRowThreads / 32), kWarpRowThreads, 0, s>>>(
            x, gamma, beta, y, mean, rstd, rows, cols, eps);
    } else {
        layer_norm_forward_kernel<false><<<grid_1d((size_t)rows, 1), row_block_threads(cols), 0, s>>>(
            x, gamma, beta, y, mean, rstd, rows, cols, eps);
    }
    return cudaGetLastError();
}

size_t layer_norm_backward_workspace_bytes(int64_t rows, int64_t cols) {
    if (rows <= 0 || cols <= 0) return 0;
    const SplitPlan p = plan_splits(rows, cols);
    return p.splits > 1 ? (size_t)(2 * p.splits * cols) * sizeof(float) : 0;
}

cudaError_t layer_norm_backward_f32(cudaStream_t s, Scratch& scratch, const float* x, const float* dy,
                                    const float* gamma, const float* mean, const float* rstd, float* dx, float* dgamma,
                                    float* dbeta, int64_t rows, int64_t cols) {
    if (cols <= 0 || rows < 0) return cudaSuccess;
    // dgamma and dbeta first, dx last: dx may alias dy (as on the CPU), and the parameter kernels read dy, so stream
    // order must finish those reads before the dx kernel overwrites it.
    if (dgamma || dbeta) {
        const SplitPlan p = plan_splits(rows, cols);
        const dim3 block(kColTile, kRowLanes), grid((unsigned)p.tiles, (unsigned)p.splits);
        if (p.splits == 1) {  // one split covers every row (rows == 0 included: the sums are 0)
            layer_norm_param_partials_kernel<<<grid, block, 0, s>>>(x, dy, mean, rstd, dgamma, dbeta, rows, cols,
                                                                    p.rows_per_split);
        } else {
            const size_t bytes = layer_norm_backward_workspace_bytes(rows, cols);
            float* part = static_cast<float*>(scratch.get(bytes));
            if (!part) return cudaErrorInvalidValue;
            float* part_g = dgamma ? part : nullptr;
            float* part_b = dbeta ? part + p.splits * cols : nullptr;
            layer_norm_param_partials_kernel<<<grid, block, 0, s>>>(x, dy, mean, rstd, part_g, part_b, rows, cols,
                                                                    p.rows_per_split);
            const cudaError_t e = cudaGetLastError();
            if (e != cudaSuccess) return e;
            layer_norm_sum_splits_kernel<<<grid_1d((size_t)cols, kSumThreads), kSumThreads, 0, s>>>(
                part_g, part_b, dgamma, dbeta, p.splits, cols);
        }
        const cudaError_t e = cudaGetLastError();
        if (e != cudaSuccess) return e;
    }
    if (dx && rows > 0) {
        if (cols <= kWarpMaxCols) {
            layer_norm_dx_kernel<true><<<grid_1d((size_t)rows, kWarpRowThreads / 32), kWarpRowThreads, 0, s>>>(
                x, dy, gamma, mean, rstd, dx, rows, cols);
        } else {
            layer_norm_dx_kernel<false><<<grid_1d((size_t)rows, 1), row_block_threads(cols), 0, s>>>(
                x, dy, gamma, mean, rstd, dx, rows, cols);
        }
        return cudaGetLastError();
    }
    return cudaSuccess;
}

}  // namespace kiln::cuda

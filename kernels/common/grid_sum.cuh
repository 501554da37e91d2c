// The all-reduces to one number (a whole tensor's sum, the sum of squares, the pointwise losses' means, the Gaussian
// KL): out[0] = finish(sum of f(a[i], b[i]) over i < n), spread over the whole GPU. One block of kGridSumThreads per
// kGridSumElemsPerBlock elements, at most kGridSumMaxBlocks, each block adding its threads' thread_partial shares
// (elements dealt over the whole grid) into partial[block]; then one block adds the partials in block order.
// Deterministic: the block count is a function of n alone and nothing is added atomically, so the bits depend on the
// input only, never on the GPU or the run. A sum that fits one block is one launch that writes out[0] itself and needs
// no scratch (the small losses of a training step stay one launch). A single 1024-thread block, which these sums were
// before, reads at most about 130 GB/s on an H200: one SM's share of the bandwidth.
#pragma once

#include <cstdint>

#include "common/cuda_api.h"
#include "common/reduce_util.cuh"
#include "common/scratch.h"

namespace kiln::cuda {

constexpr int kGridSumThreads = 256;
constexpr int kGridSumMaxBlocks = 1024;  // the final block adds one partial per thread
constexpr int64_t kGridSumElemsPerBlock = INT64_C(1) << 14;

inline int grid_sum_blocks(int64_t n) {
    const int64_t wanted = (n + kGridSumElemsPerBlock - 1) / kGridSumElemsPerBlock;
    return (int)(wanted < 1 ? 1 : wanted > kGridSumMaxBlocks ? kGridSumMaxBlocks : wanted);
}

// finish functors: what out[0] becomes of the total.
struct SumAsIs {
    __device__ float operator()(float total) const { return total; }
};
struct SumScaled {
    float scale;
    __device__ float operator()(float total) const { return kiln_fmul(total, scale); }
};
struct SumMeanOver {  // total / count (NaN for count 0, as the CPU's mean of nothing)
    int64_t count;
    __device__ float operator()(float total) const { return mean_of(total, count); }
};

// partial[blockIdx.x] = this block's share; a grid of one block writes out[0] = finish(total) instead.
template <typename F, typename Finish>
__global__ void __launch_bounds__(kGridSumThreads) grid_sum_partial_kernel(const float* __restrict__ a,
                                                                           const float* __restrict__ b, int64_t n,
                                                                           F f, Finish finish,
                                                                           float* __restrict__ partial,
                                                                           float* __restrict__ out) {
    __shared__ float smem[32];
    const int rank = blockIdx.x * blockDim.x + threadIdx.x, size = gridDim.x * blockDim.x;
    const float total = block_reduce(thread_partial(a, b, n, rank, size, f), SumOp{}, 0.0f, smem);
    if (threadIdx.x != 0) return;
    if (gridDim.x == 1) out[0] = finish(total);
    else partial[blockIdx.x] = total;
}

template <typename Finish>
__global__ void __launch_bounds__(kGridSumMaxBlocks, 1) grid_sum_final_kernel(const float* __restrict__ partial,
                                                                              int blocks, Finish finish,
                                                                              float* __restrict__ out) {
    __shared__ float smem[32];
    const float v = (int)threadIdx.x < blocks ? partial[threadIdx.x] : 0.0f;
    const float total = block_reduce(v, SumOp{}, 0.0f, smem);
    if (threadIdx.x == 0) out[0] = finish(total);
}

// out[0] = finish(sum_i f(a[i], b[i])), b may be null (f then sees 0 for it); launched for n == 0 too (out becomes
// finish(0)). Scratch: one float per block when there is more than one.
template <typename F, typename Finish>
cudaError_t grid_sum(cudaStream_t s, Scratch& scratch, const float* a, const float* b, int64_t n, F f, Finish finish,
                     float* out) {
    const int blocks = grid_sum_blocks(n);
    float* partial = nullptr;
    if (blocks > 1) {
        partial = static_cast<float*>(scratch.get((size_t)blocks * sizeof(float)));
        if (!partial) return cudaErrorInvalidValue;
    }
    grid_sum_partial_kernel<F, Finish><<<blocks, kGridSumThreads, 0, s>>>(a, b, n, f, finish, partial, out);
    if (blocks > 1) grid_sum_final_kernel<Finish><<<1, kGridSumMaxBlocks, 0, s>>>(partial, blocks, finish, out);
    return cudaGetLastError();
}

}  // namespace kiln::cuda

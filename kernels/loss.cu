// Loss kernels: cross entropy, BCE with logits, MSE, forward and backward. Conventions: outputs are assigned; a loss is
// a mean, reduced in a fixed order (no atomics), so it is bitwise reproducible: BCE and MSE through grid_sum
// (common/grid_sum.cuh: every SM, then one final block), cross entropy's mean over rows in one block. The backward
// kernels read dloss[0] on the device; BCE's and MSE's go in chunks of four (common/chunked.cuh). Cross entropy takes
// one online-softmax pass per row (a warp per row up to 1024 columns, else a block) that saves the row's logsumexp,
// then one block for the mean over rows. The math per element is kernels/common/softmax_math.h, shared with
// native/src/cpu/loss.cpp.
#include <cstdint>

#include "common/launch.h"
#include "common/chunked.cuh"
#include "common/grid_sum.cuh"
#include "common/softmax_math.h"
#include "loss.h"

namespace kiln::cuda {

namespace {

constexpr int64_t kWarpRowMaxCols = 1024;
constexpr int kRowBlock = 256;
constexpr int kRowsPerBlock = kRowBlock / 32;
// Single-block all-reduces: the largest block, and "at least 1 block per SM" in __launch_bounds__ so ptxas does not
// squeeze registers (and spill) chasing an occupancy that one block can never have.
constexpr int kAllReduceThreads = 1024;

int block_threads_for(int64_t cols) {  // as in reduce.cu: about 16 columns per thread, 128..1024 threads
    int t = 128;
    while (t < 1024 && (int64_t)t * 16 < cols) t *= 2;
    return t;
}


struct BceTerm {
    __device__ float operator()(float x, float t) const { return bce_logits_term(x, t); }
};
struct MseTerm {
    __device__ float operator()(float x, float t) const { return mse_term(x, t); }
};

// lse[r] = logsumexp(logits[r]) in one online pass.
template <bool kWarp>
__global__ void __launch_bounds__(1024) cross_entropy_lse_kernel(const float* __restrict__ logits,
                                                                 float* __restrict__ lse, int64_t rows, int64_t cols) {
    __shared__ SoftmaxState smem[32];
    using Team = RowTeam<kWarp>;
    for (int64_t r = Team::first_row(); r < rows; r += Team::row_stride()) {
        const float* xr = logits + r * cols;
        SoftmaxState st = softmax_state_empty();
        for_each_loaded(xr, Team::rank(), cols, Team::size(), [&](int64_t, float v) { softmax_update(st, v); });
        st = Team::reduce(st, SoftmaxMergeOp{}, softmax_state_empty(), smem);
        if (Team::rank() == 0) lse[r] = logsumexp_of(st.m, st.s);
    }
}

// loss[0] = mean over rows of lse[r] - logits[r, labels[r]] (NaN for a bad label); one block.
__global__ void __launch_bounds__(kAllReduceThreads, 1) cross_entropy_mean_kernel(const float* __restrict__ logits,
                                                                                const int32_t* __restrict__ labels,
                                                                                const float* __restrict__ lse,
                                                                                float* __restrict__ loss, int64_t rows,
                                                                                int64_t cols) {
    __shared__ float smem[32];
    float acc = 0.0f;
    for (int64_t r = threadIdx.x; r < rows; r += blockDim.x)
        acc = kiln_fadd(acc, cross_entropy_row(lse[r], logits + r * cols, labels[r], cols));
    const float total = block_reduce(acc, SumOp{}, 0.0f, smem);
    if (threadIdx.x == 0) loss[0] = mean_of(total, rows);
}

template <typename Index>
__global__ void cross_entropy_backward_kernel(const float* __restrict__ logits, const int32_t* __restrict__ labels,
                                              const float* __restrict__ lse, const float* __restrict__ dloss,
                                              float* __restrict__ dlogits, Index total, Index cols, int64_t rows) {
    const float scale = loss_grad_scale(__ldg(dloss), rows);
    for (Index k = flat_thread_index<Index>(); k < total; k += flat_thread_stride<Index>()) {
        const Index r = k / cols;
        const Index c = k - r * cols;
        const int32_t label = labels[r];
        dlogits[k] = label_valid(label, (int64_t)cols)
                         ? cross_entropy_grad(logits[k], lse[r], (int64_t)c == (int64_t)label, scale)
                         : kiln_qnan();
    }
}

// The same gradient in chunks of four (common/chunked.cuh) for rows of whole chunks (cols % 4 == 0): one division
// per chunk for its row instead of one per element, and float4 accesses.
struct CrossEntropyBackward {
    const float* __restrict__ logits;
    const int32_t* __restrict__ labels;
    const float* __restrict__ lse;
    const float* __restrict__ dloss;
    float* __restrict__ dlogits;
    int64_t rows, cols;
    __device__ float grad(float x, int64_t r, int64_t c, float scale) const {
        const int32_t label = __ldg(labels + r);
        return label_valid(label, cols) ? cross_entropy_grad(x, __ldg(lse + r), c == (int64_t)label, scale)
                                        : kiln_qnan();
    }
    __device__ void one(int64_t i) const {
        dlogits[i] = grad(logits[i], i / cols, i % cols, loss_grad_scale(__ldg(dloss), rows));
    }
    __device__ void four(int64_t c) const {
        const int64_t r = (4 * c) / cols, col = 4 * c - r * cols;
        const float scale = loss_grad_scale(__ldg(dloss), rows);
        const float4 x = load4(logits, c);
        store4(dlogits, c, make_float4(grad(x.x, r, col, scale), grad(x.y, r, col + 1, scale),
                                       grad(x.z, r, col + 2, scale), grad(x.w, r, col + 3, scale)));
    }
};

// dx[i] = grad(x[i], t[i], scale) with scale = dloss / n, in chunks of four (common/chunked.cuh).
template <typename Grad>
struct PointwiseLossBackward {
    const float* __restrict__ x;
    const float* __restrict__ t;
    const float* __restrict__ dloss;
    float* __restrict__ dx;
    int64_t n;
    __device__ float scale() const { return loss_grad_scale(__ldg(dloss), n); }
    __device__ void one(int64_t i) const { dx[i] = Grad{}(x[i], t[i], scale()); }
    __device__ void four(int64_t c) const {
        const float sc = scale();
        store4(dx, c, map4(load4(x, c), load4(t, c), [sc](float xv, float tv) { return Grad{}(xv, tv, sc); }));
    }
};

struct BceGrad {
    __device__ float operator()(float x, float t, float scale) const { return bce_logits_grad(x, t, scale); }
};
struct MseGrad {
    __device__ float operator()(float x, float t, float scale) const { return mse_grad(x, t, scale); }
};

template <typename Grad>
cudaError_t pointwise_loss_backward(cudaStream_t s, const float* x, const float* t, const float* dloss, float* dx,
                                    int64_t n) {
    return launch_chunked(s, n, aligned16(x) && aligned16(t) && aligned16(dx),
                          PointwiseLossBackward<Grad>{x, t, dloss, dx, n});
}

}  // namespace

cudaError_t cross_entropy_f32(cudaStream_t s, const float* logits, const int32_t* labels, float* loss, float* lse,
                              int64_t rows, int64_t cols) {
    if (rows > 0) {
        if (cols <= kWarpRowMaxCols)
            cross_entropy_lse_kernel<true><<<grid_1d(rows, kRowsPerBlock), kRowBlock, 0, s>>>(logits, lse, rows, cols);
        else
            cross_entropy_lse_kernel<false><<<grid_1d(rows, 1), block_threads_for(cols), 0, s>>>(logits, lse, rows,
                                                                                                 cols);
    }
    // Stream order makes lse complete before the mean reads it; rows == 0 still writes loss = NaN.
    cross_entropy_mean_kernel<<<1, kAllReduceThreads, 0, s>>>(logits, labels, lse, loss, rows, cols);
    return cudaGetLastError();
}

cudaError_t cross_entropy_backward_f32(cudaStream_t s, const float* logits, const int32_t* labels, const float* lse,
                                       const float* dloss, float* dlogits, int64_t rows, int64_t cols) {
    const int64_t total = rows * cols;
    if (total == 0) return cudaSuccess;
    if (cols % 4 == 0 && aligned16(logits) && aligned16(dlogits))
        return launch_chunked_as<true>(s, total, CrossEntropyBackward{logits, labels, lse, dloss, dlogits, rows, cols});
    if (fits_u32(total))
        cross_entropy_backward_kernel<uint32_t><<<grid_1d(total, 256), 256, 0, s>>>(
            logits, labels, lse, dloss, dlogits, (uint32_t)total, (uint32_t)cols, rows);
    else
        cross_entropy_backward_kernel<uint64_t><<<grid_1d(total, 256), 256, 0, s>>>(
            logits, labels, lse, dloss, dlogits, (uint64_t)total, (uint64_t)cols, rows);
    return cudaGetLastError();
}

cudaError_t bce_with_logits_f32(cudaStream_t s, Scratch& scratch, const float* x, const float* t, float* loss,
                                int64_t n) {
    return grid_sum(s, scratch, x, t, n, BceTerm{}, SumMeanOver{n}, loss);  // n == 0 too: loss = NaN
}

cudaError_t bce_with_logits_backward_f32(cudaStream_t s, const float* x, const float* t, const float* dloss, float* dx,
                                         int64_t n) {
    return pointwise_loss_backward<BceGrad>(s, x, t, dloss, dx, n);
}

cudaError_t mse_f32(cudaStream_t s, Scratch& scratch, const float* x, const float* t, float* loss, int64_t n) {
    return grid_sum(s, scratch, x, t, n, MseTerm{}, SumMeanOver{n}, loss);
}

cudaError_t mse_backward_f32(cudaStream_t s, const float* x, const float* t, const float* dloss, float* dx, int64_t n) {
    return pointwise_loss_backward<MseGrad>(s, x, t, dloss, dx, n);
}

}  // namespace kiln::cuda

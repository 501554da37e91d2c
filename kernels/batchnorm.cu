// Batch norm on the GPU. Conventions: outputs and gradients are assigned, never accumulated. Training forward and
// backward, and the evaluation backward when dgamma/dbeta are wanted, give each channel of up to 16384 elements to one
// block (grid-stride over channels): the block sums the channel's m = n * hw elements with per-thread partials in
// fixed chains and a fixed-order block reduction (warp shuffles, no atomics), so results are bitwise reproducible run
// to run, then writes that channel's outputs itself, with no second launch and no scratch. A longer channel in
// training is split over several blocks whose partial sums meet in scratch ("split" kernels below), in a fixed order. Statistics are two-pass (sum,
// then sum of squared deviations from the mean), which stays accurate when |mean| >> std; x is read three times,
// mostly from L2. Evaluation, and its backward's dx alone, are element-wise. Per-element formulas are
// kernels/common/batchnorm_math.h, shared with native/src/cpu/batchnorm.cpp (eval and the eval backward's dx are
// bit-identical to it; the sums differ only by their rounding: fp32 here, double there).
#include <cstdint>

#include "batchnorm.h"
#include "common/batchnorm_math.h"
#include "common/launch.h"
#include "common/reduce_util.cuh"

namespace kiln::cuda {

namespace {

constexpr int kEltThreads = 256;

struct Pair {
    float a, b;
};
__device__ __forceinline__ float add(float u, float v) { return kiln_fadd(u, v); }
__device__ __forceinline__ Pair add(Pair u, Pair v) { return Pair{kiln_fadd(u.a, v.a), kiln_fadd(u.b, v.b)}; }
template <typename T>
__device__ __forceinline__ T zero();
template <>
__device__ __forceinline__ float zero<float>() { return 0.0f; }
template <>
__device__ __forceinline__ Pair zero<Pair>() { return Pair{0.0f, 0.0f}; }

// Walks this thread's elements of one channel: j = threadIdx.x, + blockDim.x, ... < m. Element j is sample j / hw at
// position j % hw, i.e. offset (j / hw) * stride + base + j % hw with stride = c * hw and base = ch * hw. Consecutive
// threads get consecutive positions (coalesced), and the (sample, position) pair steps by the block size without a
// 64-bit division per element. Needs hw >= 1 (it divides by hw): the launchers see to it.
struct ChannelCursor {
    int64_t sample, pos, step_sample, step_pos, hw;
    // Starts at element `first` of the channel (threadIdx.x for a walk over the whole channel).
    __device__ ChannelCursor(int64_t hw_, int64_t first) : hw(hw_) {
        sample = first / hw;
        pos = first - sample * hw;
        step_sample = (int64_t)blockDim.x / hw;
        step_pos = (int64_t)blockDim.x - step_sample * hw;
    }
    __device__ int64_t offset(int64_t stride, int64_t base) const { return sample * stride + base + pos; }
    __device__ void advance() {
        sample += step_sample;
        pos += step_pos;
        if (pos >= hw) {
            pos -= hw;
            ++sample;
        }
    }
};

// This thread's share of sum f(offset) over the channel's elements [begin, end) (0 and m for all of them): four
// independent chains, so four loads are in flight per thread.
template <typename T, typename F>
__device__ __forceinline__ T channel_partial(int64_t begin, int64_t end, int64_t hw, int64_t stride, int64_t base,
                                            F f) {
    ChannelCursor cur(hw, begin + threadIdx.x);
    const int64_t size = blockDim.x;
    T a0 = zero<T>(), a1 = zero<T>(), a2 = zero<T>(), a3 = zero<T>();
    int64_t j = begin + threadIdx.x;
    const int64_t m = end;
    for (; j + 3 * size < m; j += 4 * size) {
        const int64_t o0 = cur.offset(stride, base);
        cur.advance();
        const int64_t o1 = cur.offset(stride, base);
        cur.advance();
        const int64_t o2 = cur.offset(stride, base);
        cur.advance();
        const int64_t o3 = cur.offset(stride, base);
        cur.advance();
        const T v0 = f(o0), v1 = f(o1), v2 = f(o2), v3 = f(o3);
        a0 = add(a0, v0);
        a1 = add(a1, v1);
        a2 = add(a2, v2);
        a3 = add(a3, v3);
    }
    for (; j < m; j += size) {
        a0 = add(a0, f(cur.offset(stride, base)));
        cur.advance();
    }
    return add(add(a0, a1), add(a2, a3));
}

// Calls f(offset) once for each of this thread's elements of the channel's [begin, end).
template <typename F>
__device__ __forceinline__ void channel_for_each(int64_t begin, int64_t end, int64_t hw, int64_t stride, int64_t base,
                                                 F f) {
    ChannelCursor cur(hw, begin + threadIdx.x);
    for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) {
        f(cur.offset(stride, base));
        cur.advance();
    }
}

// ---- training forward ----------------------------------------------------------------------------------------------

__global__ void __launch_bounds__(1024) bn_train_kernel(const float* __restrict__ x, const float* __restrict__ gamma,
                                                        const float* __restrict__ beta, float* __restrict__ y,
                                                        float* __restrict__ save_mean, float* __restrict__ save_invstd,
                                                        float* __restrict__ running_mean,
                                                        float* __restrict__ running_var, int64_t n, int64_t c,
                                                        int64_t hw, float momentum, float eps, float unbiased) {
    __shared__ float smem[32];
    const int64_t m = n * hw, stride = c * hw;
    for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
        const int64_t base = ch * hw;
        float sum = channel_partial<float>(0, m, hw, stride, base, [&](int64_t o) { return __ldg(x + o); });
        sum = block_reduce(sum, SumOp{}, 0.0f, smem);
        const float mean = kiln_fdiv(sum, (float)m);
        float sq = channel_partial<float>(0, m, hw, stride, base, [&](int64_t o) {
            const float d = kiln_fadd(__ldg(x + o), -mean);
            return kiln_fmul(d, d);
        });
        sq = block_reduce(sq, SumOp{}, 0.0f, smem);
        const float var = kiln_fdiv(sq, (float)m);
        const float invstd = bn_invstd(var, eps);
        if (threadIdx.x == 0) {
            save_mean[ch] = mean;
            save_invstd[ch] = invstd;
            if (running_mean) running_mean[ch] = bn_running_update(running_mean[ch], mean, momentum);
            if (running_var) running_var[ch] = bn_running_update(running_var[ch], kiln_fmul(var, unbiased), momentum);
        }
        const float scale = bn_scale(gamma, ch, invstd), shift = bn_shift(beta, ch);
        channel_for_each(0, m, hw, stride, base, [&](int64_t o) { y[o] = bn_apply(__ldg(x + o), mean, scale, shift); });
    }
}

// ---- training with each channel split over several blocks -----------------------------------------------------------
// A channel of m elements goes to S = bn_splits(m) blocks (blockIdx.x the split, blockIdx.y the channel) once it holds
// more than one split's worth: with a block per channel, a layer of 64 channels kept 64 of an H200's 132 SMs busy
// (batch norm's training pass at 14% of the copy bandwidth). Each split's partial sums go to scratch, and each later
// kernel adds its channel's S partials itself, in split order, so every block of a channel sees the same statistics
// and the bits depend on the shape and the values only.

constexpr int64_t kSplitElems = 16384;  // a split block's share of its channel
constexpr int64_t kMaxSplits = 64;
constexpr int kSplitThreads = 256;

int64_t bn_splits(int64_t m) {
    const int64_t s = (m + kSplitElems - 1) / kSplitElems;
    return s < 1 ? 1 : s > kMaxSplits ? kMaxSplits : s;
}

// This block's elements [begin, end) of its channel: gridDim.x equal slices, the last one shorter.
struct SplitRange {
    int64_t begin, end;
};
__device__ SplitRange split_range(int64_t m) {
    const int64_t len = (m + gridDim.x - 1) / gridDim.x, begin = (int64_t)blockIdx.x * len;
    return SplitRange{begin < m ? begin : m, begin + len < m ? begin + len : m};
}

// The sum of channel ch's gridDim.x partials, in split order: the same bits in every thread of every block.
template <typename T>
__device__ T sum_of_splits(const T* part, int64_t ch) {
    T t = zero<T>();
    for (int64_t k = 0; k < gridDim.x; ++k) t = add(t, part[ch * gridDim.x + k]);
    return t;
}

// part_sum[ch * S + split] = the split's sum of x.
__global__ void __launch_bounds__(kSplitThreads) bn_split_sum_kernel(const float* __restrict__ x,
                                                                     float* __restrict__ part_sum, int64_t n,
                                                                     int64_t c, int64_t hw) {
    __shared__ float smem[32];
    const int64_t m = n * hw, ch = blockIdx.y;
    const SplitRange r = split_range(m);
    float v = channel_partial<float>(r.begin, r.end, hw, c * hw, ch * hw, [&](int64_t o) { return __ldg(x + o); });
    v = block_reduce(v, SumOp{}, 0.0f, smem);
    if (threadIdx.x == 0) part_sum[ch * gridDim.x + blockIdx.x] = v;
}

// part_sq[ch * S + split] = the split's sum of (x - mean)^2, the mean from the channel's part_sum.
__global__ void __launch_bounds__(kSplitThreads) bn_split_sq_kernel(const float* __restrict__ x,
                                                                    const float* __restrict__ part_sum,
                                                                    float* __restrict__ part_sq, int64_t n, int64_t c,
                                                                    int64_t hw) {
    __shared__ float smem[32];
    const int64_t m = n * hw, ch = blockIdx.y;
    const SplitRange r = split_range(m);
    const float mean = kiln_fdiv(sum_of_splits(part_sum, ch), (float)m);
    float v = channel_partial<float>(r.begin, r.end, hw, c * hw, ch * hw, [&](int64_t o) {
        const float d = kiln_fadd(__ldg(x + o), -mean);
        return kiln_fmul(d, d);
    });
    v = block_reduce(v, SumOp{}, 0.0f, smem);
    if (threadIdx.x == 0) part_sq[ch * gridDim.x + blockIdx.x] = v;
}

// y over the split from the channel's statistics; the first split also saves them and updates the running ones.
__global__ void __launch_bounds__(kSplitThreads) bn_split_apply_kernel(
    const float* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta,
    const float* __restrict__ part_sum, const float* __restrict__ part_sq, float* __restrict__ y,
    float* __restrict__ save_mean, float* __restrict__ save_invstd, float* __restrict__ running_mean,
    float* __restrict__ running_var, int64_t n, int64_t c, int64_t hw, float momentum, float eps, float unbiased) {
    const int64_t m = n * hw, ch = blockIdx.y;
    const SplitRange r = split_range(m);
    const float mean = kiln_fdiv(sum_of_splits(part_sum, ch), (float)m);
    const float var = kiln_fdiv(sum_of_splits(part_sq, ch), (float)m);
    const float invstd = bn_invstd(var, eps);
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        save_mean[ch] = mean;
        save_invstd[ch] = invstd;
        if (running_mean) running_mean[ch] = bn_running_update(running_mean[ch], mean, momentum);
        if (running_var) running_var[ch] = bn_running_update(running_var[ch], kiln_fmul(var, unbiased), momentum);
    }
    const float scale = bn_scale(gamma, ch, invstd), shift = bn_shift(beta, ch);
    channel_for_each(r.begin, r.end, hw, c * hw, ch * hw,
                     [&](int64_t o) { y[o] = bn_apply(__ldg(x + o), mean, scale, shift); });
}

// ---- evaluation ----------------------------------------------------------------------------------------------------

// hw large: blockIdx.y walks (sample, channel) planes, so the channel's scale is computed once per block.
__global__ void __launch_bounds__(kEltThreads) bn_eval_plane_kernel(const float* __restrict__ x,
                                                                    const float* __restrict__ gamma,
                                                                    const float* __restrict__ beta,
                                                                    const float* __restrict__ running_mean,
                                                                    const float* __restrict__ running_var, float eps,
                                                                    float* __restrict__ y, int64_t planes, int64_t c,
                                                                    int64_t hw) {
    for (int64_t p = blockIdx.y; p < planes; p += gridDim.y) {
        const int64_t ch = p % c;
        const float mean = __ldg(running_mean + ch);
        const float scale = bn_scale(gamma, ch, bn_invstd(__ldg(running_var + ch), eps));
        const float shift = bn_shift(beta, ch);
        const float* xs = x + p * hw;
        float* ys = y + p * hw;
        for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < hw; i += (int64_t)gridDim.x * blockDim.x)
            ys[i] = bn_apply(__ldg(xs + i), mean, scale, shift);
    }
}

// hw small (down to 1, as after a linear layer): flat over elements, the channel derived per element.
template <typename Index>
__global__ void __launch_bounds__(kEltThreads) bn_eval_flat_kernel(const float* __restrict__ x,
                                                                   const float* __restrict__ gamma,
                                                                   const float* __restrict__ beta,
                                                                   const float* __restrict__ running_mean,
                                                                   const float* __restrict__ running_var, float eps,
                                                                   float* __restrict__ y, Index total, Index c,
                                                                   Index hw) {
    for (Index k = flat_thread_index<Index>(); k < total; k += flat_thread_stride<Index>()) {
        const Index ch = (k / hw) % c;
        const float scale = bn_scale(gamma, (int64_t)ch, bn_invstd(__ldg(running_var + ch), eps));
        y[k] = bn_apply(__ldg(x + k), __ldg(running_mean + ch), scale, bn_shift(beta, (int64_t)ch));
    }
}

// The parameter gradients of channel ch from the threads' partials (a = sum dy, b = sum dy (x - mean)), reduced in a
// fixed-order tree: dbeta = a, dgamma = invstd * b (each when wanted). Returns (a, invstd * b) to every thread.
__device__ Pair param_grads(const Pair& part, float invstd, int64_t ch, float* dgamma, float* dbeta, float* smem) {
    const float g = block_reduce(part.a, SumOp{}, 0.0f, smem);
    const float gx = kiln_fmul(block_reduce(part.b, SumOp{}, 0.0f, smem), invstd);
    if (threadIdx.x == 0) {
        if (dbeta) dbeta[ch] = g;
        if (dgamma) dgamma[ch] = gx;
    }
    return Pair{g, gx};
}

// ---- training backward ---------------------------------------------------------------------------------------------

__global__ void __launch_bounds__(1024) bn_backward_kernel(const float* __restrict__ x, const float* __restrict__ dy,
                                                           const float* __restrict__ gamma,
                                                           const float* __restrict__ save_mean,
                                                           const float* __restrict__ save_invstd,
                                                           float* __restrict__ dx, float* __restrict__ dgamma,
                                                           float* __restrict__ dbeta, int64_t n, int64_t c,
                                                           int64_t hw) {
    __shared__ float smem[32];
    const int64_t m = n * hw, stride = c * hw;
    for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
        const int64_t base = ch * hw;
        const float mean = __ldg(save_mean + ch), invstd = __ldg(save_invstd + ch);
        // a = sum dy, b = sum dy (x - mean); invstd is applied to b once per channel.
        const Pair part = channel_partial<Pair>(0, m, hw, stride, base, [&](int64_t o) {
            const float g = __ldg(dy + o);
            return Pair{g, kiln_fmul(g, kiln_fadd(__ldg(x + o), -mean))};
        });
        const Pair sums = param_grads(part, invstd, ch, dgamma, dbeta, smem);
        const float g = sums.a, gx = sums.b;
        if (dx) {
            const float scale = bn_scale(gamma, ch, invstd);
            const float mean_dy = kiln_fdiv(g, (float)m), mean_dy_xhat = kiln_fdiv(gx, (float)m);
            channel_for_each(0, m, hw, stride, base, [&](int64_t o) {
                dx[o] = bn_backward_dx(__ldg(x + o), __ldg(dy + o), mean, invstd, scale, mean_dy, mean_dy_xhat);
            });
        }
    }
}

// Split backward, as the split forward: part[ch * S + split] = the split's (sum dy, sum dy (x - mean)).
__global__ void __launch_bounds__(kSplitThreads) bn_split_backward_sums_kernel(const float* __restrict__ x,
                                                                               const float* __restrict__ dy,
                                                                               const float* __restrict__ save_mean,
                                                                               Pair* __restrict__ part, int64_t n,
                                                                               int64_t c, int64_t hw) {
    __shared__ float smem[32];
    const int64_t m = n * hw, ch = blockIdx.y;
    const SplitRange r = split_range(m);
    const float mean = __ldg(save_mean + ch);
    const Pair v = channel_partial<Pair>(r.begin, r.end, hw, c * hw, ch * hw, [&](int64_t o) {
        const float g = __ldg(dy + o);
        return Pair{g, kiln_fmul(g, kiln_fadd(__ldg(x + o), -mean))};
    });
    const float a = block_reduce(v.a, SumOp{}, 0.0f, smem);
    const float b = block_reduce(v.b, SumOp{}, 0.0f, smem);
    if (threadIdx.x == 0) part[ch * gridDim.x + blockIdx.x] = Pair{a, b};
}

// dx over the split from the channel's sums; the first split writes dgamma and dbeta.
__global__ void __launch_bounds__(kSplitThreads) bn_split_backward_dx_kernel(
    const float* __restrict__ x, const float* __restrict__ dy, const float* __restrict__ gamma,
    const float* __restrict__ save_mean, const float* __restrict__ save_invstd, const Pair* __restrict__ part,
    float* __restrict__ dx, float* __restrict__ dgamma, float* __restrict__ dbeta, int64_t n, int64_t c, int64_t hw) {
    const int64_t m = n * hw, ch = blockIdx.y;
    const float mean = __ldg(save_mean + ch), invstd = __ldg(save_invstd + ch);
    const Pair sums = sum_of_splits(part, ch);
    const float g = sums.a, gx = kiln_fmul(sums.b, invstd);
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        if (dbeta) dbeta[ch] = g;
        if (dgamma) dgamma[ch] = gx;
    }
    if (!dx) return;
    const SplitRange r = split_range(m);
    const float scale = bn_scale(gamma, ch, invstd);
    const float mean_dy = kiln_fdiv(g, (float)m), mean_dy_xhat = kiln_fdiv(gx, (float)m);
    channel_for_each(r.begin, r.end, hw, c * hw, ch * hw, [&](int64_t o) {
        dx[o] = bn_backward_dx(__ldg(x + o), __ldg(dy + o), mean, invstd, scale, mean_dy, mean_dy_xhat);
    });
}

// ---- evaluation backward -------------------------------------------------------------------------------------------

// dgamma and/or dbeta wanted: one block per channel as in the training backward (fixed-order sums, no atomics). dx
// needs no statistic, so each thread writes its elements' dx while summing: one read of dy. x is read only for dgamma.
// dx may alias x or dy (kiln.h): no restrict or read-only loads on the three, and each element's x and dy are read
// before its dx is written (by the same thread; no other thread touches that element).
__global__ void __launch_bounds__(1024) bn_backward_eval_kernel(const float* x, const float* dy,
                                                                const float* __restrict__ gamma,
                                                                const float* __restrict__ running_mean,
                                                                const float* __restrict__ running_var, float eps,
                                                                float* dx, float* __restrict__ dgamma,
                                                                float* __restrict__ dbeta, int64_t n, int64_t c,
                                                                int64_t hw) {
    __shared__ float smem[32];
    const int64_t m = n * hw, stride = c * hw;
    for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
        const int64_t base = ch * hw;
        const float mean = __ldg(running_mean + ch), invstd = bn_invstd(__ldg(running_var + ch), eps);
        const float scale = bn_scale(gamma, ch, invstd);
        // a = sum dy, b = sum dy (x - running_mean); invstd is applied to b once per channel.
        const Pair part = channel_partial<Pair>(0, m, hw, stride, base, [&](int64_t o) {
            const float g = dy[o];
            const Pair p{g, dgamma ? kiln_fmul(g, kiln_fadd(x[o], -mean)) : 0.0f};
            if (dx) dx[o] = bn_backward_eval_dx(g, scale);
            return p;
        });
        param_grads(part, invstd, ch, dgamma, dbeta, smem);
    }
}

// dx alone: element-wise, flat over elements like bn_eval_flat_kernel, so small c still fills the GPU. dx may alias
// dy: plain pointers, each element read before it is written.
template <typename Index>
__global__ void __launch_bounds__(kEltThreads) bn_backward_eval_dx_kernel(const float* dy,
                                                                          const float* __restrict__ gamma,
                                                                          const float* __restrict__ running_var,
                                                                          float eps, float* dx, Index total, Index c,
                                                                          Index hw) {
    for (Index k = flat_thread_index<Index>(); k < total; k += flat_thread_stride<Index>()) {
        const Index ch = (k / hw) % c;
        const float scale = bn_scale(gamma, (int64_t)ch, bn_invstd(__ldg(running_var + ch), eps));
        dx[k] = bn_backward_eval_dx(dy[k], scale);
    }
}

// Threads of a channel block: about 16 elements per thread, 128..1024 (a multiple of 32, as block_reduce needs).
int channel_threads(int64_t m) {
    int t = 128;
    while (t < 1024 && (int64_t)t * 16 < m) t *= 2;
    return t;
}


}  // namespace

cudaError_t batch_norm_train_f32(cudaStream_t s, Scratch& scratch, int64_t n, int64_t c, int64_t hw, const float* x,
                                 const float* gamma, const float* beta, float* y, float* save_mean, float* save_invstd,
                                 float* running_mean, float* running_var, float momentum, float eps) {
    const int64_t m = n * hw, splits = bn_splits(m);
    if (splits > 1 && c <= 65535) {
        float* part = static_cast<float*>(scratch.get((size_t)(2 * c * splits) * sizeof(float)));
        if (!part) return cudaErrorInvalidValue;
        float* part_sq = part + c * splits;
        const dim3 grid((unsigned)splits, (unsigned)c);
        bn_split_sum_kernel<<<grid, kSplitThreads, 0, s>>>(x, part, n, c, hw);
        bn_split_sq_kernel<<<grid, kSplitThreads, 0, s>>>(x, part, part_sq, n, c, hw);
        bn_split_apply_kernel<<<grid, kSplitThreads, 0, s>>>(x, gamma, beta, part, part_sq, y, save_mean, save_invstd,
                                                             running_mean, running_var, n, c, hw, momentum, eps,
                                                             bn_unbiased_factor(m));
        return cudaGetLastError();
    }
    bn_train_kernel<<<grid_1d(c, 1), channel_threads(m), 0, s>>>(x, gamma, beta, y, save_mean, save_invstd,
                                                                 running_mean, running_var, n, c, hw, momentum, eps,
                                                                 bn_unbiased_factor(m));
    return cudaGetLastError();
}

cudaError_t batch_norm_eval_f32(cudaStream_t s, int64_t n, int64_t c, int64_t hw, const float* x, const float* gamma,
                                const float* beta, const float* running_mean, const float* running_var, float eps,
                                float* y) {
    const int64_t planes = n * c, total = planes * hw;
    if (hw >= 1024) {
        // About four elements per thread along the plane; planes beyond 65535 are walked by the y grid-stride.
        const int64_t gx = (hw + 4 * kEltThreads - 1) / (4 * kEltThreads);
        const dim3 grid((unsigned)(gx < 65535 ? gx : 65535), (unsigned)(planes < 65535 ? planes : 65535));
        bn_eval_plane_kernel<<<grid, kEltThreads, 0, s>>>(x, gamma, beta, running_mean, running_var, eps, y, planes, c,
                                                          hw);
    } else if (fits_u32(total)) {
        bn_eval_flat_kernel<uint32_t><<<grid_1d(total, kEltThreads), kEltThreads, 0, s>>>(
            x, gamma, beta, running_mean, running_var, eps, y, (uint32_t)total, (uint32_t)c, (uint32_t)hw);
    } else {
        bn_eval_flat_kernel<uint64_t><<<grid_1d(total, kEltThreads), kEltThreads, 0, s>>>(
            x, gamma, beta, running_mean, running_var, eps, y, (uint64_t)total, (uint64_t)c, (uint64_t)hw);
    }
    return cudaGetLastError();
}

cudaError_t batch_norm_backward_f32(cudaStream_t s, Scratch& scratch, int64_t n, int64_t c, int64_t hw, const float* x,
                                    const float* dy, const float* gamma, const float* save_mean,
                                    const float* save_invstd, float* dx, float* dgamma, float* dbeta) {
    const int64_t splits = bn_splits(n * hw);
    if (splits > 1 && c <= 65535) {
        Pair* part = static_cast<Pair*>(scratch.get((size_t)(c * splits) * sizeof(Pair)));
        if (!part) return cudaErrorInvalidValue;
        const dim3 grid((unsigned)splits, (unsigned)c);
        bn_split_backward_sums_kernel<<<grid, kSplitThreads, 0, s>>>(x, dy, save_mean, part, n, c, hw);
        bn_split_backward_dx_kernel<<<grid, kSplitThreads, 0, s>>>(x, dy, gamma, save_mean, save_invstd, part, dx,
                                                                   dgamma, dbeta, n, c, hw);
        return cudaGetLastError();
    }
    bn_backward_kernel<<<grid_1d(c, 1), channel_threads(n * hw), 0, s>>>(x, dy, gamma, save_mean, save_invstd, dx,
                                                                         dgamma, dbeta, n, c, hw);
    return cudaGetLastError();
}

cudaError_t batch_norm_backward_eval_f32(cudaStream_t s, int64_t n, int64_t c, int64_t hw, const float* x,
                                         const float* dy, const float* gamma, const float* running_mean,
                                         const float* running_var, float eps, float* dx, float* dgamma, float* dbeta) {
    const int64_t total = n * c * hw;
    if (dgamma || dbeta) {
        // Core lets an empty batch through here (dgamma = dbeta = 0 still to write), hw == 0 included, and
        // ChannelCursor divides by hw. An empty channel is the same whichever factor is 0, so it goes in as n = 0,
        // hw = 1: the kernel walks no element either way and writes the same values, with no division by 0.
        if (hw == 0) n = 0, hw = 1;
        bn_backward_eval_kernel<<<grid_1d(c, 1), channel_threads(n * hw), 0, s>>>(
            x, dy, gamma, running_mean, running_var, eps, dx, dgamma, dbeta, n, c, hw);
    } else {
        with_index_width(total, [&](auto index) {
            using Index = decltype(index);
            bn_backward_eval_dx_kernel<Index><<<grid_1d(total, kEltThreads), kEltThreads, 0, s>>>(
                dy, gamma, running_var, eps, dx, (Index)total, (Index)c, (Index)hw);
        });
    }
    return cudaGetLastError();
}

}  // namespace kiln::cuda

// The sampling family on the GPU. Conventions: outputs are assigned; one thread per Philox block (four elements,
// float4 loads and stores when the pointers allow), grid-stride; the KL mean is a two-pass reduction whose block count
// is a function of the size alone (no atomics), so its bits do not depend on the GPU. The math is
// kernels/common/sampling_math.h, shared with native/src/cpu/sampling.cpp, so z has the same bits on both.
#include <cstdint>

#include "common/launch.h"
#include "common/reduce_util.cuh"
#include "common/sampling_math.h"
#include "sampling.h"

namespace kiln::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kKlMaxBlocks = 1024;       // partials the final block adds: one per thread of it
constexpr int64_t kKlElemsPerBlock = 1 << 14;

inline bool aligned16(const void* p) { return ((uintptr_t)p & 15u) == 0; }

// Element-wise over Philox blocks: out[i] = f(i, eps) for the four elements of each block. Vec4 when every pointer the
// functor reads or writes is 16-byte aligned (checked on the host), so a full block is one float4 per stream.
template <bool Vec4, typename F>
__global__ void __launch_bounds__(kThreads) eps_blocks_kernel(int64_t n, uint64_t seed, uint64_t offset, F f) {
    const int64_t blocks = (n + 3) / 4;
    for (int64_t g = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; g < blocks; g += (int64_t)gridDim.x * blockDim.x) {
        float eps[4];
        philox_normal4(seed, offset, (uint64_t)g, eps);
        if (Vec4 && 4 * g + 4 <= n) f.block4(g, eps);
        else for (int64_t j = 0; j < 4 && 4 * g + j < n; ++j) f.one(4 * g + j, eps[j]);
    }
}

// No __restrict__: z may alias mu or logvar; each element is read, then written, by one thread.
struct Reparam {
    const float* mu;
    const float* logvar;
    float* z;
    __device__ void one(int64_t i, float eps) const { z[i] = reparam_z(mu[i], logvar[i], eps); }
    __device__ void block4(int64_t g, const float* e) const {
        const float4 m = reinterpret_cast<const float4*>(mu)[g], l = reinterpret_cast<const float4*>(logvar)[g];
        reinterpret_cast<float4*>(z)[g] = make_float4(reparam_z(m.x, l.x, e[0]), reparam_z(m.y, l.y, e[1]),
                                                      reparam_z(m.z, l.z, e[2]), reparam_z(m.w, l.w, e[3]));
    }
};

struct ReparamBackward {
    const float* __restrict__ logvar;
    const float* __restrict__ dz;
    float* __restrict__ dmu;      // may be null
    float* __restrict__ dlogvar;  // may be null
    __device__ void one(int64_t i, float eps) const {
        if (dmu) dmu[i] = dz[i];
        if (dlogvar) dlogvar[i] = reparam_dlogvar(dz[i], logvar[i], eps);
    }
    __device__ void block4(int64_t g, const float* e) const {
        const float4 d = reinterpret_cast<const float4*>(dz)[g];
        if (dmu) reinterpret_cast<float4*>(dmu)[g] = d;
        if (dlogvar) {
            const float4 l = reinterpret_cast<const float4*>(logvar)[g];
            reinterpret_cast<float4*>(dlogvar)[g] =
                make_float4(reparam_dlogvar(d.x, l.x, e[0]), reparam_dlogvar(d.y, l.y, e[1]),
                            reparam_dlogvar(d.z, l.z, e[2]), reparam_dlogvar(d.w, l.w, e[3]));
        }
    }
};

template <typename F>
cudaError_t launch_eps_blocks(cudaStream_t s, int64_t n, uint64_t seed, uint64_t offset, bool vec4, F f) {
    const unsigned grid = grid_1d((size_t)(n + 3) / 4, kThreads);
    if (vec4) eps_blocks_kernel<true, F><<<grid, kThreads, 0, s>>>(n, seed, offset, f);
    else eps_blocks_kernel<false, F><<<grid, kThreads, 0, s>>>(n, seed, offset, f);
    return cudaGetLastError();
}

struct KlTerm {
    __device__ float operator()(float mu, float logvar) const { return gaussian_kl_term(mu, logvar); }
};

// partial[blockIdx.x] = this block's share of the KL terms (elements dealt round-robin over the whole grid).
__global__ void __launch_bounds__(kThreads) gaussian_kl_partial_kernel(const float* __restrict__ mu,
                                                                       const float* __restrict__ logvar,
                                                                       float* __restrict__ partial, int64_t n) {
    __shared__ float smem[32];
    const int rank = blockIdx.x * blockDim.x + threadIdx.x, size = gridDim.x * blockDim.x;
    const float total = block_reduce(thread_partial(mu, logvar, n, rank, size, KlTerm{}), SumOp{}, 0.0f, smem);
    if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

// loss[0] = (partial[0] + ... + partial[blocks - 1]) / batch, one block of kKlMaxBlocks threads.
__global__ void __launch_bounds__(kKlMaxBlocks, 1) gaussian_kl_final_kernel(const float* __restrict__ partial,
                                                                            int blocks, float* __restrict__ loss,
                                                                            int64_t batch) {
    __shared__ float smem[32];
    const float v = threadIdx.x < blocks ? partial[threadIdx.x] : 0.0f;
    const float total = block_reduce(v, SumOp{}, 0.0f, smem);
    if (threadIdx.x == 0) loss[0] = mean_of(total, batch);
}

__global__ void __launch_bounds__(kThreads) gaussian_kl_backward_kernel(const float* __restrict__ mu,
                                                                        const float* __restrict__ logvar,
                                                                        const float* __restrict__ dloss,
                                                                        float* __restrict__ dmu,
                                                                        float* __restrict__ dlogvar, int64_t n,
                                                                        int64_t batch) {
    const float scale = loss_grad_scale(__ldg(dloss), batch);
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        if (dmu) dmu[i] = gaussian_kl_dmu(mu[i], scale);
        if (dlogvar) dlogvar[i] = gaussian_kl_dlogvar(logvar[i], scale);
    }
}

}  // namespace

cudaError_t reparameterize_f32(cudaStream_t s, const float* mu, const float* logvar, float* z, int64_t n, uint64_t seed,
                               uint64_t offset) {
    if (n <= 0) return cudaSuccess;
    const bool vec4 = aligned16(mu) && aligned16(logvar) && aligned16(z);
    return launch_eps_blocks(s, n, seed, offset, vec4, Reparam{mu, logvar, z});
}

cudaError_t reparameterize_backward_f32(cudaStream_t s, const float* logvar, const float* dz, float* dmu,
                                        float* dlogvar, int64_t n, uint64_t seed, uint64_t offset) {
    if (n <= 0 || (!dmu && !dlogvar)) return cudaSuccess;
    const bool vec4 = aligned16(logvar) && aligned16(dz) && aligned16(dmu) && aligned16(dlogvar);  // NULL is aligned
    return launch_eps_blocks(s, n, seed, offset, vec4, ReparamBackward{logvar, dz, dmu, dlogvar});
}

cudaError_t gaussian_kl_f32(cudaStream_t s, Scratch& scratch, const float* mu, const float* logvar, float* loss,
                            int64_t batch, int64_t dim) {
    const int64_t n = batch * dim;
    const int64_t wanted = (n + kKlElemsPerBlock - 1) / kKlElemsPerBlock;
    const int blocks = (int)(wanted < 1 ? 1 : wanted > kKlMaxBlocks ? kKlMaxBlocks : wanted);
    float* partial = static_cast<float*>(scratch.get((size_t)blocks * sizeof(float)));
    if (!partial) return cudaErrorInvalidValue;
    gaussian_kl_partial_kernel<<<blocks, kThreads, 0, s>>>(mu, logvar, partial, n);
    gaussian_kl_final_kernel<<<1, kKlMaxBlocks, 0, s>>>(partial, blocks, loss, batch);
    return cudaGetLastError();
}

cudaError_t gaussian_kl_backward_f32(cudaStream_t s, const float* mu, const float* logvar, const float* dloss,
                                     float* dmu, float* dlogvar, int64_t batch, int64_t dim) {
    const int64_t n = batch * dim;
    if (n <= 0 || (!dmu && !dlogvar)) return cudaSuccess;
    gaussian_kl_backward_kernel<<<grid_1d((size_t)n, kThreads), kThreads, 0, s>>>(mu, logvar, dloss, dmu, dlogvar, n,
                                                                                  batch);
    return cudaGetLastError();
}

}  // namespace kiln::cuda

// The sampling family on the GPU. Conventions: outputs are assigned; one thread per Philox block (four elements,
// float4 loads and stores when the pointers allow), grid-stride; the KL mean is a grid_sum (common/grid_sum.cuh: block
// count a function of the size alone, no atomics), so its bits do not depend on the GPU. The math is
// kernels/common/sampling_math.h, shared with native/src/cpu/sampling.cpp, so z has the same bits on both.
#include <cstdint>

#include "common/launch.h"
#include "common/grid_sum.cuh"
#include "common/sampling_math.h"
#include "sampling.h"

namespace kiln::cuda {

namespace {

constexpr int kThreads = 256;

inline bool aligned16(const void* p) { return ((uintptr_t)p & 15u) == 0; }

__device__ __forceinline__ float4 load_float4(const float* p, int64_t i4) {
    return __ldg(reinterpret_cast<const float4*>(p) + i4);
}

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

// Four elements per thread (one chunk), float4 where Vec4 and the chunk is whole: the scale's division and the index
// arithmetic are paid once per four elements, and each stream moves 16 bytes per access.
template <bool Vec4>
__global__ void __launch_bounds__(kThreads) gaussian_kl_backward_kernel(const float* __restrict__ mu,
                                                                        const float* __restrict__ logvar,
                                                                        const float* __restrict__ dloss,
                                                                        float* __restrict__ dmu,
                                                                        float* __restrict__ dlogvar, int64_t n,
                                                                        int64_t batch) {
    const float scale = loss_grad_scale(__ldg(dloss), batch);
    const int64_t chunks = (n + 3) / 4;
    for (int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; c < chunks; c += (int64_t)gridDim.x * blockDim.x) {
        if (Vec4 && 4 * c + 4 <= n) {
            if (dmu) {
                const float4 m = load_float4(mu, c);
                reinterpret_cast<float4*>(dmu)[c] =
                    make_float4(gaussian_kl_dmu(m.x, scale), gaussian_kl_dmu(m.y, scale), gaussian_kl_dmu(m.z, scale),
                                gaussian_kl_dmu(m.w, scale));
            }
            if (dlogvar) {
                const float4 l = load_float4(logvar, c);
                reinterpret_cast<float4*>(dlogvar)[c] =
                    make_float4(gaussian_kl_dlogvar(l.x, scale), gaussian_kl_dlogvar(l.y, scale),
                                gaussian_kl_dlogvar(l.z, scale), gaussian_kl_dlogvar(l.w, scale));
            }
        } else {
            for (int64_t i = 4 * c; i < n && i < 4 * c + 4; ++i) {
                if (dmu) dmu[i] = gaussian_kl_dmu(mu[i], scale);
                if (dlogvar) dlogvar[i] = gaussian_kl_dlogvar(logvar[i], scale);
            }
        }
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
    return grid_sum(s, scratch, mu, logvar, batch * dim, KlTerm{}, SumMeanOver{batch}, loss);
}

cudaError_t gaussian_kl_backward_f32(cudaStream_t s, const float* mu, const float* logvar, const float* dloss,
                                     float* dmu, float* dlogvar, int64_t batch, int64_t dim) {
    const int64_t n = batch * dim;
    if (n <= 0 || (!dmu && !dlogvar)) return cudaSuccess;
    const unsigned grid = grid_1d((size_t)(n + 3) / 4, kThreads);
    if (aligned16(mu) && aligned16(logvar) && aligned16(dmu) && aligned16(dlogvar))  // NULL is aligned
        gaussian_kl_backward_kernel<true><<<grid, kThreads, 0, s>>>(mu, logvar, dloss, dmu, dlogvar, n, batch);
    else
        gaussian_kl_backward_kernel<false><<<grid, kThreads, 0, s>>>(mu, logvar, dloss, dmu, dlogvar, n, batch);
    return cudaGetLastError();
}

}  // namespace kiln::cuda

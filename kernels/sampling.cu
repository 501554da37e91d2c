// The sampling family on the GPU. Conventions: outputs are assigned; one thread per Philox block (four elements,
// float4 loads and stores when the pointers allow), grid-stride; the KL mean is a grid_sum (common/grid_sum.cuh: block
// count a function of the size alone, no atomics), so its bits do not depend on the GPU. The math is
// kernels/common/sampling_math.h, shared with native/src/cpu/sampling.cpp, so z has the same bits on both.
#include <cstdint>

#include "common/launch.h"
#include "common/chunked.cuh"
#include "common/entry_backends.h"
#include "common/grid_sum.cuh"
#include "common/sampling_math.h"

namespace kiln::cuda {

namespace {

constexpr int kThreads = 256;


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

// dmu and dlogvar of the KL in chunks of four (common/chunked.cuh); either may be null.
struct GaussianKlBackward {
    const float* __restrict__ mu;
    const float* __restrict__ logvar;
    const float* __restrict__ dloss;
    float* __restrict__ dmu;
    float* __restrict__ dlogvar;
    int64_t batch;
    __device__ float scale() const { return loss_grad_scale(__ldg(dloss), batch); }
    __device__ void one(int64_t i) const {
        const float sc = scale();
        if (dmu) dmu[i] = gaussian_kl_dmu(mu[i], sc);
        if (dlogvar) dlogvar[i] = gaussian_kl_dlogvar(logvar[i], sc);
    }
    __device__ void four(int64_t c) const {
        const float sc = scale();
        if (dmu) store4(dmu, c, map4(load4(mu, c), [sc](float m) { return gaussian_kl_dmu(m, sc); }));
        if (dlogvar) store4(dlogvar, c, map4(load4(logvar, c), [sc](float l) { return gaussian_kl_dlogvar(l, sc); }));
    }
};

}  // namespace

cudaError_t reparameterize_f32(cudaStream_t s, Scratch&, const float* mu, const float* logvar, float* z, int64_t n,
                               uint64_t seed, uint64_t offset) {
    if (n <= 0) return cudaSuccess;
    const bool vec4 = aligned16(mu) && aligned16(logvar) && aligned16(z);
    return launch_eps_blocks(s, n, seed, offset, vec4, Reparam{mu, logvar, z});
}

cudaError_t reparameterize_backward_f32(cudaStream_t s, Scratch&, const float* logvar, const float* dz, float* dmu,
                                        float* dlogvar, int64_t n, uint64_t seed, uint64_t offset) {
    if (n <= 0 || (!dmu && !dlogvar)) return cudaSuccess;
    const bool vec4 = aligned16(logvar) && aligned16(dz) && aligned16(dmu) && aligned16(dlogvar);  // NULL is aligned
    return launch_eps_blocks(s, n, seed, offset, vec4, ReparamBackward{logvar, dz, dmu, dlogvar});
}

cudaError_t gaussian_kl_f32(cudaStream_t s, Scratch& scratch, const float* mu, const float* logvar, float* loss,
                            int64_t batch, int64_t dim) {
    return grid_sum(s, scratch, mu, logvar, batch * dim, KlTerm{}, SumMeanOver{batch}, loss);
}

cudaError_t gaussian_kl_backward_f32(cudaStream_t s, Scratch&, const float* mu, const float* logvar,
                                     const float* dloss, float* dmu, float* dlogvar, int64_t batch, int64_t dim) {
    if (!dmu && !dlogvar) return cudaSuccess;
    const bool aligned = aligned16(mu) && aligned16(logvar) && aligned16(dmu) && aligned16(dlogvar);
    return launch_chunked(s, batch * dim, aligned, GaussianKlBackward{mu, logvar, dloss, dmu, dlogvar, batch});
}

}  // namespace kiln::cuda

KILN_CUDA_LAUNCHER(reparameterize_f32);
KILN_CUDA_LAUNCHER(reparameterize_backward_f32);
KILN_CUDA_LAUNCHER(gaussian_kl_f32);
KILN_CUDA_LAUNCHER(gaussian_kl_backward_f32);

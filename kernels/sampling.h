// Host launchers of kernels/sampling.cu: the VAE's reparameterization and the Gaussian KL term. Pointers are device
// memory; arguments are validated by native/src/core/ops_sampling.cpp; shapes as in native/src/cpu/sampling.h.
#pragma once

#include <cstdint>

#include "common/cuda_api.h"
#include "common/scratch.h"

namespace kiln::cuda {

// z (n) = mu + exp(logvar / 2) eps, eps from Philox (seed, offset); z may alias mu or logvar.
cudaError_t reparameterize_f32(cudaStream_t s, const float* mu, const float* logvar, float* z, int64_t n, uint64_t seed,
                               uint64_t offset);
// dmu = dz, dlogvar = dz exp(logvar / 2) eps / 2 (n); either output may be NULL.
cudaError_t reparameterize_backward_f32(cudaStream_t s, const float* logvar, const float* dz, float* dmu,
                                        float* dlogvar, int64_t n, uint64_t seed, uint64_t offset);
// loss (1) = KL of (batch, dim) averaged over batch: block partials into scratch, then one block adds them in block
// order, so the bits depend on the shape alone.
cudaError_t gaussian_kl_f32(cudaStream_t s, Scratch& scratch, const float* mu, const float* logvar, float* loss,
                            int64_t batch, int64_t dim);
// dmu, dlogvar (batch, dim) from dloss (1) on the device; either may be NULL.
cudaError_t gaussian_kl_backward_f32(cudaStream_t s, const float* mu, const float* logvar, const float* dloss,
                                     float* dmu, float* dlogvar, int64_t batch, int64_t dim);

}  // namespace kiln::cuda

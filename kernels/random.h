// Host launchers of kernels/random.cu: Philox streams and dropout. Pointers are device memory; arguments are
// validated by native/src/core/ops_random.cpp.
#pragma once

#include "common/cuda_api.h"

#include <cstddef>
#include <cstdint>

namespace kiln::cuda {

cudaError_t rand_uniform_f32(cudaStream_t s, float* y, size_t n, uint64_t seed, uint64_t offset, float lo, float hi);
cudaError_t rand_normal_f32(cudaStream_t s, float* y, size_t n, uint64_t seed, uint64_t offset, float mean, float std);

// y[i] = x[i] / (1 - p) where element i's Philox uniform is >= p, else 0; x, y are (n), y may alias x, 0 <= p < 1.
// The backward is the same call on (dy, dx).
cudaError_t dropout_f32(cudaStream_t s, const float* x, float* y, int64_t n, float p, uint64_t seed, uint64_t offset);

}  // namespace kiln::cuda

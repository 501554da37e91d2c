// The random family's backend entries: kiln::cpu (native/src/cpu/random.cpp) and kiln::cuda (host launchers of
// kernels/random.cu): Philox uniform and normal streams, and dropout (its mask regenerated from the same stream).
// Arguments were validated by native/src/core/ops_random.cpp. y is (n).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/cuda_api.h"

namespace kiln::cpu {

void rand_uniform_f32(float* y, size_t n, uint64_t seed, uint64_t offset, float lo, float hi);
void rand_normal_f32(float* y, size_t n, uint64_t seed, uint64_t offset, float mean, float std);

// y[i] = x[i] / (1 - p) where element i's Philox uniform is >= p, else 0 (kernels/common/activations.h). x, y are
// (n); y may alias x; 0 <= p < 1. The backward is the same call on (dy, dx).
void dropout_f32(const float* x, float* y, int64_t n, float p, uint64_t seed, uint64_t offset);

}  // namespace kiln::cpu

// The same entries on the GPU, queued on stream s; pointers are device memory. Shapes as in the CPU block above.
namespace kiln::cuda {

cudaError_t rand_uniform_f32(cudaStream_t s, float* y, size_t n, uint64_t seed, uint64_t offset, float lo, float hi);
cudaError_t rand_normal_f32(cudaStream_t s, float* y, size_t n, uint64_t seed, uint64_t offset, float mean, float std);

cudaError_t dropout_f32(cudaStream_t s, const float* x, float* y, int64_t n, float p, uint64_t seed, uint64_t offset);

}  // namespace kiln::cuda

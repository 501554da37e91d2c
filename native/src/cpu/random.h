// CPU twin of kernels/random.cu: Philox uniform and normal streams, and dropout (its mask regenerated from the
// same stream). y is (n).
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln::cpu {

void rand_uniform_f32(float* y, size_t n, uint64_t seed, uint64_t offset, float lo, float hi);
void rand_normal_f32(float* y, size_t n, uint64_t seed, uint64_t offset, float mean, float std);

// y[i] = x[i] / (1 - p) where element i's Philox uniform is >= p, else 0 (kernels/common/activations.h). x, y are
// (n); y may alias x. The backward is the same call on (dy, dx).
void dropout_f32(const float* x, float* y, int64_t n, float p, uint64_t seed, uint64_t offset);

}  // namespace kiln::cpu

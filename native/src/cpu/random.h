// CPU twin of kernels/random.cu: Philox uniform and normal streams. y is (n).
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln::cpu {

void rand_uniform_f32(float* y, size_t n, uint64_t seed, uint64_t offset, float lo, float hi);
void rand_normal_f32(float* y, size_t n, uint64_t seed, uint64_t offset, float mean, float std);

}  // namespace kiln::cpu

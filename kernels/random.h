// Host launchers of kernels/random.cu. y is (n) in device memory.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace kiln::cuda {

cudaError_t rand_uniform_f32(cudaStream_t s, float* y, size_t n, uint64_t seed, uint64_t offset, float lo, float hi);
cudaError_t rand_normal_f32(cudaStream_t s, float* y, size_t n, uint64_t seed, uint64_t offset, float mean, float std);

}  // namespace kiln::cuda

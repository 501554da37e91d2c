// Host launchers of kernels/elementwise.cu. Pointers are device memory.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

namespace kiln::cuda {

cudaError_t fill_f32(cudaStream_t s, float* y, size_t n, float value);  // y is (n)

}  // namespace kiln::cuda

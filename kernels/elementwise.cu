// Elementwise kernels. Conventions: grid-stride loops over flat indices; outputs are assigned, never accumulated.
#include "common/launch.h"
#include "elementwise.h"

namespace kiln::cuda {

namespace {

__global__ void fill_kernel(float* __restrict__ y, size_t n, float value) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        y[i] = value;
}


}  // namespace

cudaError_t fill_f32(cudaStream_t s, float* y, size_t n, float value) {
    if (n == 0) return cudaSuccess;
    fill_kernel<<<grid_1d(n, 256), 256, 0, s>>>(y, n, value);
    return cudaGetLastError();
}

}  // namespace kiln::cuda

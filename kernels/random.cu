// Philox random streams on the GPU. Conventions: one thread per Philox block (4 outputs), grid-stride; the math
// is kernels/common/philox.h, shared with native/src/cpu/random.cpp, so both give the same bits.
#include "common/philox.h"
#include "common/launch.h"
#include "random.h"

namespace kiln::cuda {

namespace {

template <bool Normal>
__global__ void rand_kernel(float* __restrict__ y, size_t n, uint64_t seed, uint64_t offset, float a, float b) {
    const size_t blocks = (n + 3) / 4;
    for (size_t g = blockIdx.x * (size_t)blockDim.x + threadIdx.x; g < blocks; g += (size_t)gridDim.x * blockDim.x) {
        const size_t first = g * 4, last = first + 4 < n ? first + 4 : n;
        for (size_t i = first; i < last; ++i)
            y[i] = Normal ? philox_normal_at(seed, offset, i, a, b) : philox_uniform_at(seed, offset, i, a, b);
    }
}


}  // namespace

cudaError_t rand_uniform_f32(cudaStream_t s, float* y, size_t n, uint64_t seed, uint64_t offset, float lo, float hi) {
    if (n == 0) return cudaSuccess;
    rand_kernel<false><<<grid_1d((n + 3) / 4, 256), 256, 0, s>>>(y, n, seed, offset, lo, hi);
    return cudaGetLastError();
}

cudaError_t rand_normal_f32(cudaStream_t s, float* y, size_t n, uint64_t seed, uint64_t offset, float mean, float std) {
    if (n == 0) return cudaSuccess;
    rand_kernel<true><<<grid_1d((n + 3) / 4, 256), 256, 0, s>>>(y, n, seed, offset, mean, std);
    return cudaGetLastError();
}

}  // namespace kiln::cuda

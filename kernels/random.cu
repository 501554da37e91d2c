// Philox random streams and dropout on the GPU. Conventions: one thread per Philox block (4 outputs), grid-stride;
// the math is kernels/common/philox.h (and the dropout mask of kernels/common/activations.h), shared with
// native/src/cpu/random.cpp, so both give the same bits.
#include <cstdint>

#include "common/activations.h"
#include "common/philox.h"
#include "common/launch.h"
#include "random.h"

namespace kiln::cuda {

namespace {

template <bool Normal>
__global__ void rand_kernel(float* __restrict__ y, size_t n, uint64_t seed, uint64_t offset, float a, float b) {
    const size_t blocks = (n + 3) / 4;
    for (size_t g = blockIdx.x * (size_t)blockDim.x + threadIdx.x; g < blocks; g += (size_t)gridDim.x * blockDim.x) {
        float v[4];
        if (Normal)
            philox_normal_block4(seed, offset, g, a, b, v);
        else
            philox_uniform_block4(seed, offset, g, a, b, v);
        const size_t first = g * 4, count = n - first < 4 ? n - first : 4;
        for (size_t j = 0; j < count; ++j) y[first + j] = v[j];
    }
}

// Block g of the stream covers elements 4g..4g+3. Vec4: x and y are 16-byte aligned, so a full block moves as one
// float4 (the tail block, if partial, goes element by element). y may alias x: each element is read, then written,
// by one thread, hence no __restrict__.
template <bool Vec4>
__global__ void dropout_kernel(const float* x, float* y, int64_t n, float p, float scale, uint64_t seed,
                               uint64_t offset) {
    const int64_t blocks = (n + 3) / 4;
    for (int64_t g = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; g < blocks; g += (int64_t)gridDim.x * blockDim.x) {
        const Philox4 bits = philox_block(seed, offset + (uint64_t)g);
        const int64_t first = g * 4;
        if (Vec4 && first + 4 <= n) {
            const float4 v = reinterpret_cast<const float4*>(x)[g];
            reinterpret_cast<float4*>(y)[g] = make_float4(
                dropout_apply(bits.v[0], v.x, p, scale), dropout_apply(bits.v[1], v.y, p, scale),
                dropout_apply(bits.v[2], v.z, p, scale), dropout_apply(bits.v[3], v.w, p, scale));
        } else {
            for (int k = 0; k < 4 && first + k < n; ++k)
                y[first + k] = dropout_apply(bits.v[k], x[first + k], p, scale);
        }
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

cudaError_t dropout_f32(cudaStream_t s, const float* x, float* y, int64_t n, float p, uint64_t seed, uint64_t offset) {
    if (n <= 0) return cudaSuccess;
    if (p == 0.0f) {  // every u >= 0 and the scale is 1: an exact copy, without generating the stream
        if (x == y) return cudaSuccess;
        return cudaMemcpyAsync(y, x, (size_t)n * sizeof(float), cudaMemcpyDeviceToDevice, s);
    }
    const float scale = dropout_scale(p);
    const unsigned grid = grid_1d((size_t)(n + 3) / 4, 256);
    if ((((uintptr_t)x | (uintptr_t)y) & 15u) == 0)
        dropout_kernel<true><<<grid, 256, 0, s>>>(x, y, n, p, scale, seed, offset);
    else
        dropout_kernel<false><<<grid, 256, 0, s>>>(x, y, n, p, scale, seed, offset);
    return cudaGetLastError();
}

}  // namespace kiln::cuda

// fp32 <-> bf16 on the GPU. Conventions: outputs are assigned; one thread per group of four elements, grid-stride, with
// a float4 / 8-byte vector access when both pointers are aligned for it (checked on the host) and a scalar loop
// otherwise. The rounding is kernels/common/bf16.h rather than __float2bfloat16_rn: both round to nearest even, but
// cvt.rn.bf16.f32 returns the canonical NaN, while bf16.h keeps the NaN's sign and payload as the CPU does.
#include <cstdint>

#include "common/bf16.h"
#include "common/launch.h"
#include "convert.h"

namespace kiln::cuda {

namespace {

constexpr int kThreads = 256;

inline bool aligned(const void* p, uintptr_t bytes) { return ((uintptr_t)p & (bytes - 1)) == 0; }

template <bool Vec4>
__global__ void __launch_bounds__(kThreads) f32_to_bf16_kernel(const float* __restrict__ x, kiln_bf16* __restrict__ y,
                                                               int64_t n) {
    const int64_t groups = (n + 3) / 4;
    for (int64_t g = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; g < groups; g += (int64_t)gridDim.x * blockDim.x) {
        if (Vec4 && 4 * g + 4 <= n) {
            const float4 v = reinterpret_cast<const float4*>(x)[g];
            uint2 out;  // little-endian: element 4g is the low half of out.x
            out.x = (uint32_t)f32_to_bf16(v.x) | (uint32_t)f32_to_bf16(v.y) << 16;
            out.y = (uint32_t)f32_to_bf16(v.z) | (uint32_t)f32_to_bf16(v.w) << 16;
            reinterpret_cast<uint2*>(y)[g] = out;
        } else {
            for (int64_t i = 4 * g; i < 4 * g + 4 && i < n; ++i) y[i] = f32_to_bf16(x[i]);
        }
    }
}

template <bool Vec4>
__global__ void __launch_bounds__(kThreads) bf16_to_f32_kernel(const kiln_bf16* __restrict__ x, float* __restrict__ y,
                                                               int64_t n) {
    const int64_t groups = (n + 3) / 4;
    for (int64_t g = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; g < groups; g += (int64_t)gridDim.x * blockDim.x) {
        if (Vec4 && 4 * g + 4 <= n) {
            const uint2 v = reinterpret_cast<const uint2*>(x)[g];
            reinterpret_cast<float4*>(y)[g] =
                make_float4(bf16_to_f32((kiln_bf16)(v.x & 0xffffu)), bf16_to_f32((kiln_bf16)(v.x >> 16)),
                            bf16_to_f32((kiln_bf16)(v.y & 0xffffu)), bf16_to_f32((kiln_bf16)(v.y >> 16)));
        } else {
            for (int64_t i = 4 * g; i < 4 * g + 4 && i < n; ++i) y[i] = bf16_to_f32(x[i]);
        }
    }
}

}  // namespace

cudaError_t convert_f32_to_bf16(cudaStream_t s, const float* x, kiln_bf16* y, int64_t n) {
    if (n <= 0) return cudaSuccess;
    const unsigned grid = grid_1d((size_t)(n + 3) / 4, kThreads);
    if (aligned(x, 16) && aligned(y, 8)) f32_to_bf16_kernel<true><<<grid, kThreads, 0, s>>>(x, y, n);
    else f32_to_bf16_kernel<false><<<grid, kThreads, 0, s>>>(x, y, n);
    return cudaGetLastError();
}

cudaError_t convert_bf16_to_f32(cudaStream_t s, const kiln_bf16* x, float* y, int64_t n) {
    if (n <= 0) return cudaSuccess;
    const unsigned grid = grid_1d((size_t)(n + 3) / 4, kThreads);
    if (aligned(x, 8) && aligned(y, 16)) bf16_to_f32_kernel<true><<<grid, kThreads, 0, s>>>(x, y, n);
    else bf16_to_f32_kernel<false><<<grid, kThreads, 0, s>>>(x, y, n);
    return cudaGetLastError();
}

}  // namespace kiln::cuda

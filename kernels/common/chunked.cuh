// Elementwise work in chunks of four elements: chunk c is elements 4c .. 4c + 3 of every stream, and each thread takes
// whole chunks, grid-stride. Where every pointer an op touches is 16-byte aligned (checked on the host with aligned16)
// and the chunk is whole, the op moves it as one float4 per stream; otherwise element by element. One element per
// thread with 4-byte accesses reached only 48-67% of an H200's measured copy bandwidth in the op suite: a float4 is a
// quarter of the load and store instructions, and the index arithmetic and any per-thread setup (a loss gradient's
// scale) are paid once per four elements. Which elements a thread computes changes no bits: each is computed alone.
#pragma once

#include <cstdint>

#include "common/cuda_api.h"
#include "common/launch.h"

namespace kiln::cuda {

constexpr int kChunkThreads = 256;

inline bool aligned16(const void* p) { return ((uintptr_t)p & 15u) == 0; }  // NULL counts as aligned

__device__ __forceinline__ float4 load4(const float* p, int64_t c) { return reinterpret_cast<const float4*>(p)[c]; }
__device__ __forceinline__ void store4(float* p, int64_t c, float4 v) { reinterpret_cast<float4*>(p)[c] = v; }

// f applied lane by lane to one, two or three float4s.
template <typename F>
__device__ __forceinline__ float4 map4(float4 a, F f) {
    return make_float4(f(a.x), f(a.y), f(a.z), f(a.w));
}
template <typename F>
__device__ __forceinline__ float4 map4(float4 a, float4 b, F f) {
    return make_float4(f(a.x, b.x), f(a.y, b.y), f(a.z, b.z), f(a.w, b.w));
}
template <typename F>
__device__ __forceinline__ float4 map4(float4 a, float4 b, float4 c, F f) {
    return make_float4(f(a.x, b.x, c.x), f(a.y, b.y, c.y), f(a.z, b.z, c.z), f(a.w, b.w, c.w));
}

// Op: one(i) does element i, four(c) the whole chunk c with float4 accesses (called only when kVec).
template <bool kVec, typename Op>
__global__ void __launch_bounds__(kChunkThreads) chunked_kernel(int64_t n, Op op) {
    const int64_t chunks = (n + 3) / 4;
    for (int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; c < chunks; c += (int64_t)gridDim.x * blockDim.x) {
        if (kVec && 4 * c + 4 <= n) op.four(c);
        else for (int64_t i = 4 * c; i < n && i < 4 * c + 4; ++i) op.one(i);
    }
}

// op over n elements as chunked_kernel<kVec>. launch_chunked_as<true> alone suits a caller that keeps its own kernel
// for what cannot go in float4s (elementwise.cu's binary ops), so no scalar-only instance of op is compiled.
template <bool kVec, typename Op>
cudaError_t launch_chunked_as(cudaStream_t s, int64_t n, Op op) {
    if (n <= 0) return cudaSuccess;
    chunked_kernel<kVec, Op><<<grid_1d((size_t)(n + 3) / 4, kChunkThreads), kChunkThreads, 0, s>>>(n, op);
    return cudaGetLastError();
}

// op over n elements; float4 chunks when `aligned` (every pointer op touches is 16-byte aligned).
template <typename Op>
cudaError_t launch_chunked(cudaStream_t s, int64_t n, bool aligned, Op op) {
    return aligned ? launch_chunked_as<true>(s, n, op) : launch_chunked_as<false>(s, n, op);
}

}  // namespace kiln::cuda

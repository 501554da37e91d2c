// Device-only reduction helpers for kernels/reduce.cu and kernels/loss.cu: warp and block reductions, the mapping of
// rows onto a warp or a whole block, and a per-thread partial sum (float4 loads where aligned) for rows and the
// all-reduces (common/grid_sum.cuh).
// Deterministic by construction: xor-butterfly shuffles with commutative combines leave every lane the same bits, and
// blocks combine their warps in a fixed order, so the same input gives the same output on every run.
#pragma once

#include <cstdint>

#include "common/softmax_math.h"

namespace kiln::cuda {

constexpr unsigned kFullMask = 0xffffffffu;

__device__ __forceinline__ float shfl_xor(float v, int m) { return __shfl_xor_sync(kFullMask, v, m); }
__device__ __forceinline__ SoftmaxState shfl_xor(SoftmaxState v, int m) {
    return SoftmaxState{shfl_xor(v.m, m), shfl_xor(v.s, m)};
}
__device__ __forceinline__ ArgMax shfl_xor(ArgMax v, int m) {
    return ArgMax{shfl_xor(v.v, m), __shfl_xor_sync(kFullMask, v.i, m)};
}

struct SumOp {
    __device__ float operator()(float a, float b) const { return kiln_fadd(a, b); }
};
struct MaxOp {  // NaN-ignoring, as the two-pass softmax's max
    __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct SoftmaxMergeOp {
    __device__ SoftmaxState operator()(SoftmaxState a, SoftmaxState b) const { return softmax_merge(a, b); }
};
struct ArgMaxOp {
    __device__ ArgMax operator()(ArgMax a, ArgMax b) const { return argmax_merge(a, b); }
};

// All 32 lanes must call it; every lane returns the warp's total.
template <typename T, typename Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
#pragma unroll
    for (int m = 16; m > 0; m >>= 1) v = op(v, shfl_xor(v, m));
    return v;
}

// Every thread of the block must call it (it synchronizes; blockDim.x a multiple of 32, at most 1024). Every thread
// returns the block's total: each warp reduces the 32 warp partials itself, which saves a third barrier.
template <typename T, typename Op>
__device__ __forceinline__ T block_reduce(T v, Op op, T identity, T* smem /* [32] */) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = warp_reduce(v, op);
    __syncthreads();  // readers of smem from a previous call are done
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    v = lane < nwarps ? smem[lane] : identity;
    return warp_reduce(v, op);
}

// Who works on which row: a warp per row (kWarp; blockDim.x / 32 rows per block) or the whole block per row. Rows are
// walked grid-stride; the walk is uniform across a warp (or block), so shuffles (or barriers) inside it are safe.
template <bool kWarp>
struct RowTeam {
    __device__ static int64_t first_row() {
        return kWarp ? (int64_t)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5) : (int64_t)blockIdx.x;
    }
    __device__ static int64_t row_stride() { return kWarp ? (int64_t)gridDim.x * (blockDim.x >> 5) : gridDim.x; }
    __device__ static int rank() { return kWarp ? (int)(threadIdx.x & 31) : (int)threadIdx.x; }
    __device__ static int size() { return kWarp ? 32 : (int)blockDim.x; }
    template <typename T, typename Op>
    __device__ static T reduce(T v, Op op, T identity, T* smem) {
        if constexpr (kWarp) return warp_reduce(v, op);
        else return block_reduce(v, op, identity, smem);
    }
};

// Chunk c of p: elements 4c .. 4c + 3, all present. kVec: p is 16-byte aligned, so one float4; otherwise four scalars.
template <bool kVec>
struct ChunkLoad {
    __device__ __forceinline__ static float4 load(const float* __restrict__ p, int64_t c) {
        if constexpr (kVec) {
            return __ldg(reinterpret_cast<const float4*>(p) + c);
        } else {
            const float* q = p + 4 * c;
            return make_float4(__ldg(q), __ldg(q + 1), __ldg(q + 2), __ldg(q + 3));
        }
    }
};

// thread_partial for one way of loading: chunks c = rank, rank + size, ... in increasing order, several in flight per
// stream (a block that owns a long row alone has to keep enough bytes in flight to get a useful share of the
// bandwidth), then the partial chunk if this thread's walk reaches it. Four
// float4 chunks, three scalar ones: four of those took sum_rows_kernel<false> from 32 to 48 registers (half its
// 1024-thread blocks per SM). How many are in flight changes no bits: each accumulator still adds in chunk order.
template <bool kVec, typename F>
__device__ __forceinline__ float thread_partial_as(const float* __restrict__ a, const float* __restrict__ b,
                                                   int64_t n, int rank, int size, F f) {
    float acc0 = 0.0f, acc1 = 0.0f, acc2 = 0.0f, acc3 = 0.0f;
    const int64_t nchunks = n >> 2;
    int64_t c = rank;
    constexpr int kInFlight = kVec ? 4 : 3;
    for (; c + (kInFlight - 1) * (int64_t)size < nchunks; c += kInFlight * (int64_t)size) {
        float4 xa[kInFlight], xb[kInFlight];
#pragma unroll
        for (int u = 0; u < kInFlight; ++u) xa[u] = ChunkLoad<kVec>::load(a, c + u * (int64_t)size);
#pragma unroll
        for (int u = 0; u < kInFlight; ++u)
            xb[u] = b ? ChunkLoad<kVec>::load(b, c + u * (int64_t)size) : make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
        for (int u = 0; u < kInFlight; ++u) {
            acc0 = kiln_fadd(acc0, f(xa[u].x, xb[u].x));
            acc1 = kiln_fadd(acc1, f(xa[u].y, xb[u].y));
            acc2 = kiln_fadd(acc2, f(xa[u].z, xb[u].z));
            acc3 = kiln_fadd(acc3, f(xa[u].w, xb[u].w));
        }
    }
    for (; c < nchunks; c += size) {
        const float4 xa = ChunkLoad<kVec>::load(a, c);
        const float4 xb = b ? ChunkLoad<kVec>::load(b, c) : make_float4(0.f, 0.f, 0.f, 0.f);
        acc0 = kiln_fadd(acc0, f(xa.x, xb.x));
        acc1 = kiln_fadd(acc1, f(xa.y, xb.y));
        acc2 = kiln_fadd(acc2, f(xa.z, xb.z));
        acc3 = kiln_fadd(acc3, f(xa.w, xb.w));
    }
    if (c == nchunks) {  // the partial chunk nchunks (empty when n % 4 == 0) is this thread's
        const int64_t i = nchunks << 2;
        const int tail = (int)(n & 3);
        if (tail > 0) acc0 = kiln_fadd(acc0, f(__ldg(a + i), b ? __ldg(b + i) : 0.0f));
        if (tail > 1) acc1 = kiln_fadd(acc1, f(__ldg(a + i + 1), b ? __ldg(b + i + 1) : 0.0f));
        if (tail > 2) acc2 = kiln_fadd(acc2, f(__ldg(a + i + 2), b ? __ldg(b + i + 2) : 0.0f));
    }
    return kiln_fadd(kiln_fadd(acc0, acc1), kiln_fadd(acc2, acc3));
}

// This thread's share of sum_i f(a[i], b[i]) for i in [0, n) (b may be null: f then sees 0 for it). Elements are dealt
// by logical index alone, so the bits depend on the values and n, never on where the arrays sit (a view at offset 1
// sums like a copy at offset 0): chunk c = elements 4c .. 4c + 3 goes to thread c % size, element 4c + k into
// accumulator k, each thread taking its chunks in increasing order; the partial last chunk (n % 4 elements) is chunk
// n / 4, taken by the thread whose walk reaches it. Arrays 16-byte aligned at element 0 load a chunk as a float4,
// others as four scalars: the same partition, hence the same bits. The sum is (acc0 + acc1) + (acc2 + acc3).
template <typename F>
__device__ __forceinline__ float thread_partial(const float* __restrict__ a, const float* __restrict__ b, int64_t n,
                                                int rank, int size, F f) {
    const bool vec = (((uintptr_t)a | (b ? (uintptr_t)b : (uintptr_t)0)) & 15u) == 0;
    return vec ? thread_partial_as<true>(a, b, n, rank, size, f) : thread_partial_as<false>(a, b, n, rank, size, f);
}

// One index type per launch: 32-bit when the flat index fits (cheaper division), else 64-bit.
template <typename Index>
__device__ __forceinline__ Index flat_thread_index() {
    return (Index)blockIdx.x * (Index)blockDim.x + (Index)threadIdx.x;
}
template <typename Index>
__device__ __forceinline__ Index flat_thread_stride() {
    return (Index)gridDim.x * (Index)blockDim.x;
}

// Walks elements c = first, first + step, ... < n of one or two arrays in that order, calling f(c, a[c]) or
// f(c, a[c], b[c]), with the loads of four steps issued before the four calls. A row team (a warp or a block per row)
// has only its own threads to keep bytes in flight with: one load per step let each wait on memory, about 1 TB/s on an
// H200 (layer norm at 32% of its copy bandwidth, max at 45%). The calls keep their order, so sums and comparisons come
// out with the same bits. An element may be written by f after its read (the same thread reads all four first).
template <typename F>
__device__ __forceinline__ void for_each_loaded(const float* a, int64_t first, int64_t n, int64_t step, F f) {
    int64_t c = first;
    for (; c + 3 * step < n; c += 4 * step) {
        float v[4];
#pragma unroll
        for (int u = 0; u < 4; ++u) v[u] = a[c + u * step];
#pragma unroll
        for (int u = 0; u < 4; ++u) f(c + u * step, v[u]);
    }
    for (; c < n; c += step) f(c, a[c]);
}
template <typename F>
__device__ __forceinline__ void for_each_loaded(const float* a, const float* b, int64_t first, int64_t n, int64_t step,
                                                F f) {
    int64_t c = first;
    for (; c + 3 * step < n; c += 4 * step) {
        float va[4], vb[4];
#pragma unroll
        for (int u = 0; u < 4; ++u) va[u] = a[c + u * step];
#pragma unroll
        for (int u = 0; u < 4; ++u) vb[u] = b[c + u * step];
#pragma unroll
        for (int u = 0; u < 4; ++u) f(c + u * step, va[u], vb[u]);
    }
    for (; c < n; c += step) f(c, a[c], b[c]);
}

}  // namespace kiln::cuda

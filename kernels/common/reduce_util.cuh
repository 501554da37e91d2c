// Device-only reduction helpers for kernels/reduce.cu and kernels/loss.cu: warp and block reductions, the mapping of
// rows onto a warp or a whole block, and a vectorized per-thread partial sum for the single-block all-reduces.
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

// This thread's share of sum_i f(a[i], b[i]) for i in [0, n) (b may be null: f then sees 0 for it), with the
// elements dealt round-robin over `size` threads. When a and b sit at the same offset within 16 bytes the body runs
// on float4 loads, four of them in flight per stream and thread: a single block has to keep enough bytes in flight
// to get a useful share of the bandwidth (that is all these all-reduces have; the ABI gives them no scratch).
template <typename F>
__device__ __forceinline__ float thread_partial(const float* __restrict__ a, const float* __restrict__ b, int64_t n,
                                                int rank, int size, F f) {
    float acc0 = 0.0f, acc1 = 0.0f, acc2 = 0.0f, acc3 = 0.0f;
    const unsigned mis_a = (unsigned)((uintptr_t)a & 15u);
    const unsigned mis_b = b ? (unsigned)((uintptr_t)b & 15u) : mis_a;
    int64_t done = 0;
    if (mis_a == mis_b && (mis_a & 3u) == 0) {
        int64_t head = (int64_t)(((16u - mis_a) & 15u) >> 2);  // scalars before the first 16-byte boundary
        if (head > n) head = n;
        if (rank < head) acc0 = f(a[rank], b ? b[rank] : 0.0f);
        const int64_t nvec = (n - head) >> 2;
        const float4* a4 = reinterpret_cast<const float4*>(a + head);
        const float4* b4 = b ? reinterpret_cast<const float4*>(b + head) : nullptr;
        int64_t v = rank;
        for (; v + 3 * (int64_t)size < nvec; v += 4 * (int64_t)size) {
            float4 xa[4], xb[4];
#pragma unroll
            for (int u = 0; u < 4; ++u) xa[u] = __ldg(a4 + v + u * (int64_t)size);
#pragma unroll
            for (int u = 0; u < 4; ++u)
                xb[u] = b4 ? __ldg(b4 + v + u * (int64_t)size) : make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
            for (int u = 0; u < 4; ++u) {
                acc0 = kiln_fadd(acc0, f(xa[u].x, xb[u].x));
                acc1 = kiln_fadd(acc1, f(xa[u].y, xb[u].y));
                acc2 = kiln_fadd(acc2, f(xa[u].z, xb[u].z));
                acc3 = kiln_fadd(acc3, f(xa[u].w, xb[u].w));
            }
        }
        for (; v < nvec; v += size) {
            const float4 xa = __ldg(a4 + v);
            const float4 xb = b4 ? __ldg(b4 + v) : make_float4(0.f, 0.f, 0.f, 0.f);
            acc0 = kiln_fadd(acc0, f(xa.x, xb.x));
            acc1 = kiln_fadd(acc1, f(xa.y, xb.y));
            acc2 = kiln_fadd(acc2, f(xa.z, xb.z));
            acc3 = kiln_fadd(acc3, f(xa.w, xb.w));
        }
        done = head + (nvec << 2);
    }
    // The tail after the last float4 (at most 3 elements), or everything when the pointers cannot be vectorized.
    for (int64_t i = done + rank; i < n; i += size) acc1 = kiln_fadd(acc1, f(a[i], b ? b[i] : 0.0f));
    return kiln_fadd(kiln_fadd(acc0, acc1), kiln_fadd(acc2, acc3));
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

}  // namespace kiln::cuda

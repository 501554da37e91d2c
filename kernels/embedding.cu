// The embedding family on the GPU. Conventions: outputs are assigned. The lookup is a row copy, (columns x rows)
// blocks. The backward must add, for each vocabulary row, the dy rows of its positions in increasing position with
// no float atomics, at a cost that does not grow with vocab x n: the positions are sorted by (index, position) in
// scratch, as unique 64-bit keys (index << 32 | position) so that any correct sort gives the one stable order; a
// bitonic sort does it with no atomics (tiles of 2048 keys in shared memory, global passes only for the strides
// beyond a tile). Each vocabulary row then finds its run of sorted positions by binary search, and one thread per
// (row, column) adds the run's dy values in order, in fp32, with the positions staged in shared memory so the dy loads
// of a run are independent and can overlap. Rows without positions get 0. The result has the bits of the CPU's
// sequential loop (native/src/cpu/embedding.cpp). Work: O(n log^2 n) on 8-byte keys for the sort, O(n dim) for the
// sums, O(vocab dim) to write dweight. A heavily repeated index (a padding token) is one long sequential run per
// column: that order is what the contract asks for.
#include <cstdint>

#include "common/embedding_math.h"
#include "common/launch.h"
#include "embedding.h"

namespace kiln::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kSortTile = 2048;               // keys one block sorts or merges in shared memory (16 KiB)
constexpr int kSortThreads = kSortTile / 2;   // one compare-exchange pair per thread
constexpr uint32_t kInvalidKey = 0x80000000u; // above every int32 index: out-of-range positions sort after the rest
constexpr uint64_t kPadKey = ~0ull;

// ---- forward -------------------------------------------------------------------------------------------------------

// Block (bx, by): bx threads along a row, by rows; rows grid-stride.
__global__ void __launch_bounds__(kThreads) embedding_forward_kernel(const int32_t* __restrict__ indices,
                                                                     const float* __restrict__ weight,
                                                                     float* __restrict__ y, int64_t n, int64_t vocab,
                                                                     int64_t dim) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.y + threadIdx.y; i < n; i += (int64_t)gridDim.x * blockDim.y) {
        const int32_t v = __ldg(indices + i);
        const bool ok = embedding_index_ok(v, vocab);
        const float* src = weight + (ok ? (int64_t)v * dim : 0);
        float* dst = y + i * dim;
        for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) dst[c] = ok ? __ldg(src + c) : embedding_missing_value();
    }
}

// ---- backward: sort keys -------------------------------------------------------------------------------------------

// keys[p] = index << 32 | p for the n positions (kInvalidKey for an index out of range), then padding up to `padded`.
__global__ void __launch_bounds__(kThreads) embedding_sort_keys_kernel(const int32_t* __restrict__ indices,
                                                                       uint64_t* __restrict__ keys, int64_t n,
                                                                       int64_t vocab, int64_t padded) {
    for (int64_t p = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; p < padded; p += (int64_t)gridDim.x * blockDim.x) {
        if (p < n) {
            const int32_t v = __ldg(indices + p);
            const uint32_t hi = embedding_index_ok(v, vocab) ? (uint32_t)v : kInvalidKey;
            keys[p] = ((uint64_t)hi << 32) | (uint64_t)(uint32_t)p;
        } else {
            keys[p] = kPadKey;
        }
    }
}

// The pair of pass (k, j) that thread t owns: i with bit j clear, and i + j. The half of the sequence the pair lies in
// (bit k of the global index) says which way it sorts, ascending first, so the merged runs alternate direction.
__device__ __forceinline__ int64_t pair_low(int64_t t, int64_t j) { return ((t & ~(j - 1)) << 1) | (t & (j - 1)); }

__device__ __forceinline__ void compare_exchange(uint64_t& a, uint64_t& b, bool ascending) {
    if ((a > b) == ascending) {
        const uint64_t t = a;
        a = b;
        b = t;
    }
}

// Passes j = first_j, first_j / 2, ..., 1 of merge stage k over one tile in shared memory. first_j = 0 means the
// whole sort of the tile: every stage k = 2 .. kSortTile.
__device__ __forceinline__ void tile_passes(uint64_t* s, int64_t base, int64_t k, int first_j) {
    const int t = threadIdx.x;
    for (int j = first_j; j > 0; j >>= 1) {
        const int i = (int)pair_low(t, j);
        compare_exchange(s[i], s[i + j], ((base + i) & k) == 0);
        __syncthreads();
    }
}

// Sorts each tile of kSortTile keys, in the direction the global bitonic order gives the tile (alternating).
__global__ void __launch_bounds__(kSortThreads) bitonic_sort_tile_kernel(uint64_t* __restrict__ keys) {
    __shared__ uint64_t s[kSortTile];
    const int64_t base = blockIdx.x * (int64_t)kSortTile;
    s[threadIdx.x] = keys[base + threadIdx.x];
    s[threadIdx.x + kSortThreads] = keys[base + threadIdx.x + kSortThreads];
    __syncthreads();
    for (int k = 2; k <= kSortTile; k <<= 1) tile_passes(s, base, k, k >> 1);
    keys[base + threadIdx.x] = s[threadIdx.x];
    keys[base + threadIdx.x + kSortThreads] = s[threadIdx.x + kSortThreads];
}

// One pass (k, j) of a merge stage with a stride j >= kSortTile: pairs span tiles, so straight from global memory.
__global__ void __launch_bounds__(kThreads) bitonic_merge_global_kernel(uint64_t* __restrict__ keys, int64_t padded,
                                                                        int64_t k, int64_t j) {
    for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < padded / 2;
         t += (int64_t)gridDim.x * blockDim.x) {
        const int64_t i = pair_low(t, j);
        uint64_t a = keys[i], b = keys[i + j];
        compare_exchange(a, b, (i & k) == 0);
        keys[i] = a;
        keys[i + j] = b;
    }
}

// The passes j < kSortTile of merge stage k > kSortTile: they stay within a tile, so in shared memory.
__global__ void __launch_bounds__(kSortThreads) bitonic_merge_tile_kernel(uint64_t* __restrict__ keys, int64_t k) {
    __shared__ uint64_t s[kSortTile];
    const int64_t base = blockIdx.x * (int64_t)kSortTile;
    s[threadIdx.x] = keys[base + threadIdx.x];
    s[threadIdx.x + kSortThreads] = keys[base + threadIdx.x + kSortThreads];
    __syncthreads();
    tile_passes(s, base, k, kSortTile / 2);
    keys[base + threadIdx.x] = s[threadIdx.x];
    keys[base + threadIdx.x + kSortThreads] = s[threadIdx.x + kSortThreads];
}

// ---- backward: row runs and sums -----------------------------------------------------------------------------------

// starts[v] for v in [0, vocab]: the first sorted position whose key is >= v << 32 (a binary search over the n real
// keys), so the run of row v is sorted[starts[v] .. starts[v + 1]). Rows past the int32 range have no positions.
__global__ void __launch_bounds__(kThreads) embedding_row_starts_kernel(const uint64_t* __restrict__ sorted,
                                                                        int32_t* __restrict__ starts, int64_t n,
                                                                        int64_t vocab) {
    for (int64_t v = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; v <= vocab; v += (int64_t)gridDim.x * blockDim.x) {
        const uint64_t target = (uint64_t)(v < (int64_t)kInvalidKey ? v : (int64_t)kInvalidKey) << 32;
        int64_t lo = 0, hi = n;
        while (lo < hi) {
            const int64_t mid = (lo + hi) >> 1;
            if (__ldg(sorted + mid) < target) lo = mid + 1;
            else hi = mid;
        }
        starts[v] = (int32_t)lo;
    }
}

// dweight[v, c] = sum of dy[p, c] over the run of row v, in run order (increasing p). Blocks of blockDim.x columns:
// blockIdx.y walks column tiles, blockIdx.x rows. The run's positions are staged blockDim.x at a time in shared
// memory; every loop bound is uniform over the block, so the barriers are safe.
__global__ void __launch_bounds__(kThreads) embedding_row_sums_kernel(const uint64_t* __restrict__ sorted,
                                                                      const int32_t* __restrict__ starts,
                                                                      const float* __restrict__ dy,
                                                                      float* __restrict__ dweight, int64_t vocab,
                                                                      int64_t dim) {
    __shared__ uint32_t pos[kThreads];
    const int64_t tile = blockDim.x;
    for (int64_t c0 = blockIdx.y * tile; c0 < dim; c0 += (int64_t)gridDim.y * tile) {
        const int64_t c = c0 + threadIdx.x;
        for (int64_t v = blockIdx.x; v < vocab; v += gridDim.x) {
            // 64-bit: with n near 2^31, the last chunk + tile would pass INT32_MAX.
            const int64_t begin = __ldg(starts + v), end = __ldg(starts + v + 1);
            float acc = 0.0f;
            for (int64_t chunk = begin; chunk < end; chunk += tile) {
                const int64_t count = end - chunk < tile ? end - chunk : tile;
                __syncthreads();  // the previous chunk's readers are done
                if ((int64_t)threadIdx.x < count) pos[threadIdx.x] = (uint32_t)__ldg(sorted + chunk + threadIdx.x);
                __syncthreads();
                if (c < dim) {
#pragma unroll 8
                    for (int j = 0; j < count; ++j) acc = kiln_fadd(acc, __ldg(dy + (int64_t)pos[j] * dim + c));
                }
            }
            if (c < dim) dweight[v * dim + c] = acc;
        }
    }
}

// ---- positions -----------------------------------------------------------------------------------------------------

__global__ void __launch_bounds__(kThreads) sinusoidal_positions_kernel(float* __restrict__ y, int64_t len,
                                                                        int64_t dim, int64_t start) {
    const int64_t total = len * dim;
    for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < total; k += (int64_t)gridDim.x * blockDim.x) {
        const int64_t t = k / dim, c = k - t * dim;
        y[k] = sinusoid_value(start + t, sinusoid_frequency(c, dim), c);
    }
}

// ---- launch configuration ------------------------------------------------------------------------------------------

// Threads along a row: a power of two from 32 up to kThreads, no wider than the row needs.
int row_threads(int64_t dim) {
    int bx = 32;
    while (bx < kThreads && bx < dim) bx *= 2;
    return bx;
}

int64_t padded_keys(int64_t n) {
    int64_t p = kSortTile;
    while (p < n) p <<= 1;
    return p;
}

size_t keys_bytes(int64_t n) { return (size_t)padded_keys(n) * sizeof(uint64_t); }

}  // namespace

cudaError_t embedding_f32(cudaStream_t s, const int32_t* indices, const float* weight, float* y, int64_t n,
                          int64_t vocab, int64_t dim) {
    if (n <= 0 || dim <= 0) return cudaSuccess;
    const int bx = row_threads(dim), by = kThreads / bx;
    embedding_forward_kernel<<<grid_1d((size_t)n, by), dim3(bx, by), 0, s>>>(indices, weight, y, n, vocab, dim);
    return cudaGetLastError();
}

size_t embedding_backward_workspace_bytes(int64_t n, int64_t vocab) {
    return keys_bytes(n) + (size_t)(vocab + 1) * sizeof(int32_t);
}

cudaError_t embedding_backward_f32(cudaStream_t s, Scratch& scratch, const int32_t* indices, const float* dy,
                                   float* dweight, int64_t n, int64_t vocab, int64_t dim) {
    if (vocab <= 0 || dim <= 0) return cudaSuccess;
    if (n < 0 || n >= ((int64_t)1 << 31)) return cudaErrorInvalidValue;
    void* ws = scratch.get(embedding_backward_workspace_bytes(n, vocab));
    if (!ws) return cudaErrorInvalidValue;
    uint64_t* keys = static_cast<uint64_t*>(ws);
    int32_t* starts = reinterpret_cast<int32_t*>(static_cast<char*>(ws) + keys_bytes(n));
    const int64_t padded = padded_keys(n), tiles = padded / kSortTile;

    embedding_sort_keys_kernel<<<grid_1d((size_t)padded, kThreads), kThreads, 0, s>>>(indices, keys, n, vocab, padded);
    bitonic_sort_tile_kernel<<<(unsigned)tiles, kSortThreads, 0, s>>>(keys);
    for (int64_t k = 2 * kSortTile; k <= padded; k <<= 1) {
        for (int64_t j = k >> 1; j >= kSortTile; j >>= 1)
            bitonic_merge_global_kernel<<<grid_1d((size_t)(padded / 2), kThreads), kThreads, 0, s>>>(keys, padded, k, j);
        bitonic_merge_tile_kernel<<<(unsigned)tiles, kSortThreads, 0, s>>>(keys, k);
    }
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;

    embedding_row_starts_kernel<<<grid_1d((size_t)(vocab + 1), kThreads), kThreads, 0, s>>>(keys, starts, n, vocab);
    const int bx = row_threads(dim);
    const int64_t col_tiles = (dim + bx - 1) / bx;
    const unsigned gy = (unsigned)(col_tiles < 65535 ? col_tiles : 65535);
    const unsigned gx = grid_1d((size_t)vocab, 1);
    embedding_row_sums_kernel<<<dim3(gx, gy), bx, 0, s>>>(keys, starts, dy, dweight, vocab, dim);
    return cudaGetLastError();
}

cudaError_t sinusoidal_positions_f32(cudaStream_t s, float* y, int64_t len, int64_t dim, int64_t start) {
    if (len <= 0 || dim <= 0) return cudaSuccess;
    sinusoidal_positions_kernel<<<grid_1d((size_t)(len * dim), kThreads), kThreads, 0, s>>>(y, len, dim, start);
    return cudaGetLastError();
}

}  // namespace kiln::cuda

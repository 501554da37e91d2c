// The embedding family's backend entries: kiln::cpu (native/src/cpu/embedding.cpp) and kiln::cuda (host launchers of
// kernels/embedding.cu): embedding lookup (forward and backward) and sinusoidal positional encodings. Arguments were
// validated by native/src/core/ops_embedding.cpp; shared math is kernels/common/embedding_math.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/cuda_api.h"
#include "common/scratch.h"

namespace kiln::cpu {

// y[i, :] = weight[indices[i], :], a NaN row where indices[i] is outside [0, vocab). indices (n), weight (vocab, dim),
// y (n, dim); n, dim >= 1.
void embedding_f32(const int32_t* indices, const float* weight, float* y, int64_t n, int64_t vocab, int64_t dim);
// dweight (vocab, dim) assigned: row v = dy[i, :] summed over the i with indices[i] == v, in fp32, in increasing i
// (the bits of a sequential loop, whatever the thread count); out-of-range indices are ignored. dy is (n, dim);
// n may be 0; vocab, dim >= 1.
void embedding_backward_f32(const int32_t* indices, const float* dy, float* dweight, int64_t n, int64_t vocab,
                            int64_t dim);
// y (len, dim) for positions start .. start + len - 1 (kernels/common/embedding_math.h); len, dim >= 1, start >= 0.
void sinusoidal_positions_f32(float* y, int64_t len, int64_t dim, int64_t start);

}  // namespace kiln::cpu

// The same entries on the GPU; pointers are device memory. Launchers queue work on stream s and never synchronize.
// Shapes as in the CPU block above.
namespace kiln::cuda {

cudaError_t embedding_f32(cudaStream_t s, const int32_t* indices, const float* weight, float* y, int64_t n,
                          int64_t vocab, int64_t dim);

// Device scratch embedding_backward_f32 takes: the sort keys (n rounded up to a power of two >= 2048, 8 bytes each)
// and the row starts (vocab + 1 int32). A function of the shape alone.
size_t embedding_backward_workspace_bytes(int64_t n, int64_t vocab);
// The positions are sorted by (index, position) in scratch (a bitonic sort of unique 64-bit keys: deterministic, no
// atomics), each row finds its run of positions by binary search, and one thread per (row, column) adds the run's dy
// values in increasing position, in fp32: the bits of the CPU's sequential loop. Work O(n log^2 n + n dim + vocab dim).
// n < 2^31 (positions are 32-bit).
cudaError_t embedding_backward_f32(cudaStream_t s, Scratch& scratch, const int32_t* indices, const float* dy,
                                   float* dweight, int64_t n, int64_t vocab, int64_t dim);

cudaError_t sinusoidal_positions_f32(cudaStream_t s, float* y, int64_t len, int64_t dim, int64_t start);

}  // namespace kiln::cuda

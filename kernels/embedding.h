// Host launchers of kernels/embedding.cu: embedding lookup (forward and backward) and sinusoidal positional
// encodings. Pointers are device memory; arguments were validated by native/src/core/ops_embedding.cpp; shapes as in
// native/src/cpu/embedding.h. Launchers queue work on the stream and never synchronize.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/cuda_api.h"
#include "common/scratch.h"

namespace kiln::cuda {

// y (n, dim) = rows of weight (vocab, dim) named by indices (n), NaN rows for out-of-range indices. n, dim >= 1.
cudaError_t embedding_f32(cudaStream_t s, const int32_t* indices, const float* weight, float* y, int64_t n,
                          int64_t vocab, int64_t dim);

// Device scratch embedding_backward_f32 takes: the sort keys (n rounded up to a power of two >= 2048, 8 bytes each)
// and the row starts (vocab + 1 int32). A function of the shape alone.
size_t embedding_backward_workspace_bytes(int64_t n, int64_t vocab);
// dweight (vocab, dim) assigned from dy (n, dim): the positions are sorted by (index, position) in scratch (a bitonic
// sort of unique 64-bit keys: deterministic, no atomics), each row finds its run of positions by binary search, and
// one thread per (row, column) adds the run's dy values in increasing position, in fp32: the bits of the CPU's
// sequential loop. Work O(n log^2 n + n dim + vocab dim). n < 2^31 (positions are 32-bit); vocab, dim >= 1.
cudaError_t embedding_backward_f32(cudaStream_t s, Scratch& scratch, const int32_t* indices, const float* dy,
                                   float* dweight, int64_t n, int64_t vocab, int64_t dim);

// y (len, dim) for positions start .. start + len - 1; len, dim >= 1.
cudaError_t sinusoidal_positions_f32(cudaStream_t s, float* y, int64_t len, int64_t dim, int64_t start);

}  // namespace kiln::cuda

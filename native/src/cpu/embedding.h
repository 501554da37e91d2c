// CPU twin of kernels/embedding.cu: embedding lookup (forward and backward) and sinusoidal positional encodings.
// Arguments were validated by native/src/core/ops_embedding.cpp; shared math is kernels/common/embedding_math.h.
#pragma once

#include <cstdint>

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

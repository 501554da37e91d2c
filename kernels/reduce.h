// Host launchers of kernels/reduce.cu: sums over an axis, max over the last dimension with its argmax, sum of
// squares, softmax and log_softmax. Pointers are device memory; arguments were validated by core. Each launcher queues
// its kernels on the stream and returns cudaGetLastError(); none synchronizes or needs scratch memory.
#pragma once

#include "common/cuda_api.h"

#include <cstdint>

namespace kiln::cuda {

// x is (outer, len, inner), y is (outer, inner): y = scale * sum over len.
cudaError_t reduce_sum_f32(cudaStream_t s, const float* x, float* y, int64_t outer, int64_t len, int64_t inner,
                           float scale);
// dy is (outer, inner), dx is (outer, len, inner): dx = scale * dy broadcast over len.
cudaError_t reduce_sum_backward_f32(cudaStream_t s, const float* dy, float* dx, int64_t outer, int64_t len,
                                    int64_t inner, float scale);
// x is (rows, cols), y and index are (rows); cols >= 1.
cudaError_t max_lastdim_f32(cudaStream_t s, const float* x, float* y, int32_t* index, int64_t rows, int64_t cols);
// dy and index are (rows), dx is (rows, cols).
cudaError_t max_lastdim_backward_f32(cudaStream_t s, const float* dy, const int32_t* index, float* dx, int64_t rows,
                                     int64_t cols);
// x is (n), out is (1): one block, deterministic.
cudaError_t sum_squares_f32(cudaStream_t s, const float* x, int64_t n, float* out);
// x, y are (rows, cols); cols >= 1.
cudaError_t softmax_f32(cudaStream_t s, const float* x, float* y, int64_t rows, int64_t cols, bool log);
// y, dy, dx are (rows, cols); y is the forward output.
cudaError_t softmax_backward_f32(cudaStream_t s, const float* y, const float* dy, float* dx, int64_t rows,
                                 int64_t cols, bool log);

}  // namespace kiln::cuda

// The reduce family's backend entries: kiln::cpu (native/src/cpu/reduce.cpp) and kiln::cuda (host launchers of
// kernels/reduce.cu): sums over an axis, max over the last dimension with its argmax, sum of squares, softmax and
// log_softmax. Arguments were validated by native/src/core/ops_reduce.cpp. The CPU's deterministic sums and softmax
// row spans, which other CPU families share, are in cpu/reduce_rows.h.
#pragma once

#include <cstdint>

#include "common/cuda_api.h"
#include "common/scratch.h"

namespace kiln::cpu {

// x is (outer, len, inner), y is (outer, inner): y = scale * sum over len.
void reduce_sum_f32(const float* x, float* y, int64_t outer, int64_t len, int64_t inner, float scale);
// dy is (outer, inner), dx is (outer, len, inner): dx = scale * dy broadcast over len.
void reduce_sum_backward_f32(const float* dy, float* dx, int64_t outer, int64_t len, int64_t inner, float scale);
// x is (rows, cols), y and index are (rows); cols >= 1. NaN is the max when present (first NaN), ties go to the
// first index.
void max_lastdim_f32(const float* x, float* y, int32_t* index, int64_t rows, int64_t cols);
// dy and index are (rows), dx is (rows, cols). An index outside [0, cols) leaves its row zero.
void max_lastdim_backward_f32(const float* dy, const int32_t* index, float* dx, int64_t rows, int64_t cols);
// x is (n), out is (1).
void sum_squares_f32(const float* x, int64_t n, float* out);
// x, y are (rows, cols); cols >= 1.
void softmax_f32(const float* x, float* y, int64_t rows, int64_t cols, bool log);
// y, dy, dx are (rows, cols); y is the forward output.
void softmax_backward_f32(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool log);

}  // namespace kiln::cpu

// The same entries on the GPU; pointers are device memory. Each launcher queues its kernels on stream s and returns
// cudaGetLastError(); none synchronizes. The all-reduces to one number (a single long row's sum, sum_squares) take
// scratch for their per-block partials (common/grid_sum.cuh). Shapes as in the CPU block above.
namespace kiln::cuda {

cudaError_t reduce_sum_f32(cudaStream_t s, Scratch& scratch, const float* x, float* y, int64_t outer, int64_t len,
                           int64_t inner, float scale);
cudaError_t reduce_sum_backward_f32(cudaStream_t s, const float* dy, float* dx, int64_t outer, int64_t len,
                                    int64_t inner, float scale);
cudaError_t max_lastdim_f32(cudaStream_t s, const float* x, float* y, int32_t* index, int64_t rows, int64_t cols);
cudaError_t max_lastdim_backward_f32(cudaStream_t s, const float* dy, const int32_t* index, float* dx, int64_t rows,
                                     int64_t cols);
// Deterministic: the same bits on every GPU and run.
cudaError_t sum_squares_f32(cudaStream_t s, Scratch& scratch, const float* x, int64_t n, float* out);
cudaError_t softmax_f32(cudaStream_t s, const float* x, float* y, int64_t rows, int64_t cols, bool log);
cudaError_t softmax_backward_f32(cudaStream_t s, const float* y, const float* dy, float* dx, int64_t rows,
                                 int64_t cols, bool log);

}  // namespace kiln::cuda

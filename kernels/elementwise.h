// Host launchers of kernels/elementwise.cu. Pointers are device memory; arguments are validated by
// native/src/core/ops_elementwise.cpp. Launchers queue work on the stream and never synchronize.
#pragma once

#include "common/cuda_api.h"

#include <cstddef>
#include <cstdint>

#include "common/scratch.h"

namespace kiln::cuda {

cudaError_t fill_f32(cudaStream_t s, float* y, size_t n, float value);  // y is (n)

// y[o, i] = a[o * stride_a + i] (op) b[o * stride_b + i]; strides are inner (full) or 0 (broadcast).
// a, b are (outer, inner) or (inner); y is (outer, inner).
cudaError_t binary_f32(cudaStream_t s, int op, const float* a, int64_t stride_a, const float* b, int64_t stride_b,
                       float* y, int64_t outer, int64_t inner);

// Device scratch binary_backward_f32 needs for a broadcast operand's gradient (0: none). It depends only on the
// shape, and one buffer serves both operands.
size_t binary_backward_workspace_bytes(int64_t outer, int64_t inner);
// da, db (NULL: not wanted) are (outer, inner) for a full operand, (inner) summed over outer for a broadcast one;
// dy is (outer, inner). A wanted broadcast gradient takes binary_backward_workspace_bytes(outer, inner) of scratch.
cudaError_t binary_backward_f32(cudaStream_t s, Scratch& scratch, int op, const float* a, int64_t stride_a,
                                const float* b, int64_t stride_b, const float* dy, float* da, float* db, int64_t outer,
                                int64_t inner);

// x, y are (n); y may alias x.
cudaError_t activation_f32(cudaStream_t s, int act, const float* x, float* y, int64_t n, float alpha);
// x, y, dy, dx are (n); only the one of x/y that act's derivative reads needs to be valid.
cudaError_t activation_backward_f32(cudaStream_t s, int act, const float* x, const float* y, const float* dy,
                                    float* dx, int64_t n, float alpha);
cudaError_t scale_f32(cudaStream_t s, const float* x, float* y, int64_t n, float alpha);  // y = alpha x
cudaError_t axpy_f32(cudaStream_t s, int64_t n, float alpha, const float* x, float* y);   // y += alpha x

// y = gelu(x + bias): x, y (rows, cols), bias (cols); y may alias x.
cudaError_t bias_gelu_f32(cudaStream_t s, const float* x, const float* bias, float* y, int64_t rows, int64_t cols);
// Device scratch bias_gelu_backward_f32 takes when dbias is wanted (0: none); a function of the shape alone.
size_t bias_gelu_backward_workspace_bytes(int64_t rows, int64_t cols);
// dx = dy gelu'(x + bias) (rows, cols) and dbias (cols) = its column sums (the deterministic column sum of the
// binary ops' broadcast gradients: fixed splits, fixed-order trees, no atomics); either may be NULL.
cudaError_t bias_gelu_backward_f32(cudaStream_t s, Scratch& scratch, const float* x, const float* bias,
                                   const float* dy, float* dx, float* dbias, int64_t rows, int64_t cols);

}  // namespace kiln::cuda

// The elementwise family's backend entries: kiln::cpu (native/src/cpu/elementwise.cpp) and kiln::cuda (host launchers
// of kernels/elementwise.cu): fill, binary ops with broadcasting, activations, scale, axpy, and the fused bias + GELU.
// Arguments were validated by native/src/core/ops_elementwise.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/cuda_api.h"
#include "common/scratch.h"

namespace kiln::cpu {

void fill_f32(float* y, size_t n, float value);  // y is (n)

// y[o, i] = a[o * stride_a + i] (op) b[o * stride_b + i]; each stride is inner (full) or 0 (broadcast).
// a, b are (outer, inner) or (inner); y is (outer, inner) and may be a full operand.
void binary_f32(int op, const float* a, int64_t stride_a, const float* b, int64_t stride_b, float* y, int64_t outer,
                int64_t inner);
// da, db (NULL: not wanted) are (outer, inner) for a full operand, (inner) summed over outer for a broadcast one.
// dy is (outer, inner). a and b may be NULL where the op's gradient does not read them (add, sub; mul's da reads b).
void binary_backward_f32(int op, const float* a, int64_t stride_a, const float* b, int64_t stride_b, const float* dy,
                         float* da, float* db, int64_t outer, int64_t inner);

// x, y are (n); y may alias x.
void activation_f32(int act, const float* x, float* y, int64_t n, float alpha);
// x, y, dy, dx are (n); only the one of x/y that act's derivative reads needs to be valid.
void activation_backward_f32(int act, const float* x, const float* y, const float* dy, float* dx, int64_t n,
                             float alpha);
void scale_f32(const float* x, float* y, int64_t n, float alpha);  // y = alpha x; x, y are (n); y may alias x
void axpy_f32(int64_t n, float alpha, const float* x, float* y);   // y += alpha x; x, y are (n)

// y = gelu(x + bias) (exact, erf form): x, y (rows, cols), bias (cols); y may alias x.
void bias_gelu_f32(const float* x, const float* bias, float* y, int64_t rows, int64_t cols);
// dx = dy gelu'(x + bias) (rows, cols) and dbias (cols) = its sum over rows; dx or dbias may be null. rows may be 0
// (dbias = 0). On the CPU the sum is in double, row-block partials added in block order (blocks fixed by the shape).
void bias_gelu_backward_f32(const float* x, const float* bias, const float* dy, float* dx, float* dbias, int64_t rows,
                            int64_t cols);

}  // namespace kiln::cpu

// The same entries on the GPU; pointers are device memory. Launchers queue work on stream s and never synchronize.
// Shapes as in the CPU block above.
namespace kiln::cuda {

cudaError_t fill_f32(cudaStream_t s, float* y, size_t n, float value);

cudaError_t binary_f32(cudaStream_t s, int op, const float* a, int64_t stride_a, const float* b, int64_t stride_b,
                       float* y, int64_t outer, int64_t inner);

// Device scratch binary_backward_f32 needs for a broadcast operand's gradient (0: none). It depends only on the
// shape, and one buffer serves both operands.
size_t binary_backward_workspace_bytes(int64_t outer, int64_t inner);
// A wanted broadcast gradient takes binary_backward_workspace_bytes(outer, inner) of scratch.
cudaError_t binary_backward_f32(cudaStream_t s, Scratch& scratch, int op, const float* a, int64_t stride_a,
                                const float* b, int64_t stride_b, const float* dy, float* da, float* db, int64_t outer,
                                int64_t inner);

cudaError_t activation_f32(cudaStream_t s, int act, const float* x, float* y, int64_t n, float alpha);
cudaError_t activation_backward_f32(cudaStream_t s, int act, const float* x, const float* y, const float* dy,
                                    float* dx, int64_t n, float alpha);
cudaError_t scale_f32(cudaStream_t s, const float* x, float* y, int64_t n, float alpha);
cudaError_t axpy_f32(cudaStream_t s, int64_t n, float alpha, const float* x, float* y);

cudaError_t bias_gelu_f32(cudaStream_t s, const float* x, const float* bias, float* y, int64_t rows, int64_t cols);
// Device scratch bias_gelu_backward_f32 takes when dbias is wanted (0: none); a function of the shape alone.
size_t bias_gelu_backward_workspace_bytes(int64_t rows, int64_t cols);
// dbias is the deterministic column sum of the binary ops' broadcast gradients: fixed splits, fixed-order trees, no
// atomics.
cudaError_t bias_gelu_backward_f32(cudaStream_t s, Scratch& scratch, const float* x, const float* bias,
                                   const float* dy, float* dx, float* dbias, int64_t rows, int64_t cols);

}  // namespace kiln::cuda

// CPU twin of kernels/elementwise.cu: fill, binary ops with broadcasting, activations, scale, axpy, and the fused
// bias + GELU.
// Arguments are validated by native/src/core/ops_elementwise.cpp before they get here.
#pragma once

#include <cstddef>
#include <cstdint>

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
// dx = dy gelu'(x + bias) (rows, cols) and dbias (cols) = its sum over rows, in double, row-block partials added in
// block order (blocks fixed by the shape); dx or dbias may be null. rows may be 0 (dbias = 0).
void bias_gelu_backward_f32(const float* x, const float* bias, const float* dy, float* dx, float* dbias, int64_t rows,
                            int64_t cols);

}  // namespace kiln::cpu

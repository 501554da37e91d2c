// The elementwise family's hand-vectorized spans (elementwise_avx512.cpp): exact GELU forward and derivative, with
// an optional bias, and tanh and sigmoid, 16 lanes at a time. Call them only when isa() == Isa::Avx512; elsewhere elementwise.cpp runs the
// scalar formulas of kernels/common/activations.h.
#pragma once

#include <cstdint>

namespace kiln::cpu::avx512 {

// y[k] = gelu(x[k] + bias[k]) for k < n (bias NULL: gelu(x[k])). y may alias x. Within a few ulp of the true value
// everywhere (the per-lane result is a function of the lane's inputs alone, never of where the span starts).
void gelu_span(const float* x, const float* bias, float* y, int64_t n);

// g[k] = dy[k] gelu'(x[k] + bias[k]) (bias NULL: gelu'(x[k])) for k < n; out[k] = g[k] where out is not NULL (it
// may alias dy) and acc[k] += (double)g[k] where acc is not NULL.
void gelu_backward_span(const float* x, const float* bias, const float* dy, float* out, double* acc, int64_t n);

// y[k] = tanh(x[k]) and y[k] = sigmoid(x[k]) for k < n (y may alias x), through the vector exp / expm1 of
// cpu/avx512_math.h: within a few ulp of glibc's tanhf and of the scalar sigmoid_f (the scalar loop calls tanhf
// per element, 12 ns each: a tenth of a GAN's training step).
void tanh_span(const float* x, float* y, int64_t n);
void sigmoid_span(const float* x, float* y, int64_t n);

}  // namespace kiln::cpu::avx512

// The elementwise family's hand-vectorized spans: exact GELU forward and derivative, with an optional bias, and tanh
// and sigmoid. One text (cpu/vec_activations.h) built per ISA: elementwise_avx512.cpp (16 lanes) and
// elementwise_avx2.cpp (8 lanes), which give the same bits. elementwise.cpp asks activation_spans() for this CPU's set
// and runs the scalar formulas of kernels/common/activations.h where there is none.
#pragma once

#include <cstdint>

namespace kiln::cpu {

struct ActivationSpans {
    // y[k] = gelu(x[k] + bias[k]) for k < n (bias NULL: gelu(x[k])). y may alias x. Within a few ulp of the true
    // value everywhere (the per-lane result is a function of the lane's inputs alone, never of where the span starts).
    void (*gelu)(const float* x, const float* bias, float* y, int64_t n);
    // g[k] = dy[k] gelu'(x[k] + bias[k]) (bias NULL: gelu'(x[k])) for k < n; out[k] = g[k] where out is not NULL (it
    // may alias dy) and acc[k] += (double)g[k] where acc is not NULL.
    void (*gelu_backward)(const float* x, const float* bias, const float* dy, float* out, double* acc, int64_t n);
    // y[k] = tanh(x[k]) and y[k] = sigmoid(x[k]) for k < n (y may alias x), through the vector exp / expm1 of
    // cpu/vec_math.h: within a few ulp of glibc's tanhf and of the scalar sigmoid_f (the scalar loop calls tanhf per
    // element, 12 ns each: a tenth of a GAN's training step).
    void (*tanh)(const float* x, float* y, int64_t n);
    void (*sigmoid)(const float* x, float* y, int64_t n);
};

namespace avx512 {
extern const ActivationSpans kActivationSpans;
}
namespace avx2 {
extern const ActivationSpans kActivationSpans;
}

// The spans of this CPU's widest ISA (isa()), or nullptr where it has neither AVX-512 nor AVX2.
const ActivationSpans* activation_spans();

}  // namespace kiln::cpu

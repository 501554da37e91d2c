// Per-element formulas of the elementwise family (binary ops and their gradients, activations and their
// derivatives, scale/axpy, the dropout mask), written once for native/src/cpu/{elementwise,random}.cpp and
// kernels/{elementwise,random}.cu.
// Plain arithmetic goes through the IEEE-exact kiln_f* helpers of numerics.h, so binary ops, relu, leaky_relu and
// dropout give the same bits on both backends; tanh, sigmoid and gelu call the platform's expf/tanhf/erfcf
// (glibc on the CPU, CUDA's libdevice on the GPU), which agree to a few ulps.
#pragma once

#include <stdint.h>

#include "kiln/kiln.h"
#include "numerics.h"
#include "philox.h"

#if !defined(__CUDACC__)
#include <math.h>  // expf, tanhf, erfcf as plain functions, the spelling nvcc also resolves on the device
#endif

namespace kiln {

// ---- binary ops: Op is a kiln_binary_op; a template argument so the hot loops carry no branch ----

template <int Op>
KILN_HD float binary_fwd(float a, float b) {
    if (Op == KILN_ADD) return kiln_fadd(a, b);
    if (Op == KILN_SUB) return kiln_fadd(a, -b);
    if (Op == KILN_MUL) return kiln_fmul(a, b);
    return kiln_fdiv(a, b);
}

// d(a op b)/da * dy.
template <int Op>
KILN_HD float binary_grad_a(float a, float b, float dy) {
    if (Op == KILN_ADD || Op == KILN_SUB) return dy;
    if (Op == KILN_MUL) return kiln_fmul(dy, b);
    return kiln_fdiv(dy, b);
}

// d(a op b)/db * dy. For div, -(dy/b)*(a/b) rather than -dy*a/(b*b): b*b overflows for |b| > 1.8e19 and
// underflows for |b| < 1e-19, where the two quotients stay finite.
template <int Op>
KILN_HD float binary_grad_b(float a, float b, float dy) {
    if (Op == KILN_ADD) return dy;
    if (Op == KILN_SUB) return -dy;
    if (Op == KILN_MUL) return kiln_fmul(dy, a);
    return kiln_fmul(-kiln_fdiv(dy, b), kiln_fdiv(a, b));
}

// Which operands the wanted gradients read: add/sub read neither, mul's da reads b and its db reads a, div reads b
// for both and a for db. Unread operands may be NULL, so loops must not even load them.
template <int Op, bool WantA, bool WantB>
struct BinaryGradReads {
    static constexpr bool a = (Op == KILN_MUL || Op == KILN_DIV) && WantB;
    static constexpr bool b = (Op == KILN_MUL && WantA) || (Op == KILN_DIV && (WantA || WantB));
};

// ---- activations: Act is a kiln_activation ----

// sigmoid through exp(-|x|), which never overflows: sigmoid(|x|) = 1/(1+e) and sigmoid(-|x|) = e/(1+e).
// Saturates to exactly 1 and to denormals/0 for |x| ~ 100 without producing inf/inf.
KILN_HD float sigmoid_f(float x) {
    const float e = expf(-fabsf(x));
    const float s = kiln_frcp(kiln_fadd(1.0f, e));
    return x >= 0.0f ? s : kiln_fmul(e, s);
}

// Exact GELU, x * Phi(x), with Phi(x) = erfc(-x/sqrt2)/2: erfc keeps relative accuracy in the negative tail,
// where the textbook 1 + erf(x/sqrt2) cancels to 0 long before the true value underflows.
KILN_HD float gelu_cdf(float x) { return kiln_fmul(0.5f, erfcf(kiln_fmul(-x, 0.70710678118654752f))); }

template <int Act>
KILN_HD float activation_fwd(float x, float alpha) {
    if (Act == KILN_RELU) return x < 0.0f ? 0.0f : x;  // NaN passes through, as in PyTorch
    if (Act == KILN_LEAKY_RELU) return x < 0.0f ? kiln_fmul(alpha, x) : x;
    if (Act == KILN_TANH) return tanhf(x);
    if (Act == KILN_SIGMOID) return sigmoid_f(x);
    return kiln_fmul(x, gelu_cdf(x));
}

// dy * act'(x). tanh and sigmoid use the forward output y (cheaper and what PyTorch does); the others use x.
// For gelu, Phi(x) + x * phi(x): x*x overflows to inf for huge |x|, exp(-inf) = 0, and the term vanishes cleanly.
template <int Act>
KILN_HD float activation_bwd(float x, float y, float dy, float alpha) {
    // Written as !(x <= 0): a NaN x passes dy, as PyTorch's threshold_backward does (x > 0 gave 0 there).
    if (Act == KILN_RELU) return !(x <= 0.0f) ? dy : 0.0f;
    if (Act == KILN_LEAKY_RELU) return x > 0.0f ? dy : kiln_fmul(dy, alpha);
    if (Act == KILN_TANH) return kiln_fmul(dy, kiln_fadd(1.0f, -kiln_fmul(y, y)));
    if (Act == KILN_SIGMOID) return kiln_fmul(dy, kiln_fmul(y, kiln_fadd(1.0f, -y)));
    const float pdf = kiln_fmul(0.39894228040143268f, expf(kiln_fmul(-0.5f, kiln_fmul(x, x))));  // 1/sqrt(2 pi)
    return kiln_fmul(dy, kiln_fadd(gelu_cdf(x), kiln_fmul(x, pdf)));
}

// Whether activation_bwd<Act> reads x (else it reads y): the entries only require the pointer they use.
KILN_HD constexpr bool activation_bwd_reads_x(int act) { return act != KILN_TANH && act != KILN_SIGMOID; }

// ---- linear ops ----

KILN_HD float scale_f(float alpha, float x) { return kiln_fmul(alpha, x); }
KILN_HD float axpy_f(float y, float alpha, float x) { return kiln_fadd(y, kiln_fmul(alpha, x)); }  // not fused

// ---- dropout ----

// 1/(1-p), computed in float the same way by both backends; exactly 1 for p == 0, so p == 0 copies x.
KILN_HD float dropout_scale(float p) { return kiln_fdiv(1.0f, kiln_fadd(1.0f, -p)); }

// Element i of a dropout with (seed, offset) reads word i%4 of Philox block offset + i/4 (the layout of
// philox_uniform_at; with lo = 0, hi = 1 that uniform is exactly philox_uniform01(word)). Kept when u >= p.
// Both backends take one block per step, so this works on a word of a block already computed.
KILN_HD float dropout_apply(uint32_t word, float x, float p, float scale) {
    return philox_uniform01(word) >= p ? kiln_fmul(x, scale) : 0.0f;
}

}  // namespace kiln

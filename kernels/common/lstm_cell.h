// LSTM gate math, written once for native/src/cpu/lstm.cpp and kernels/lstm.cu: the activations, the fused cell
// update (forward) and its derivative (backward) for one (batch row, hidden unit) element, gates in PyTorch order.
//
// The exponential is a branch-free polynomial (Cephes expf: Cody-Waite reduction plus a degree-6 polynomial, about
// 2 ulp) instead of the platform's expf/tanhf: the CPU loops that call it then auto-vectorize (a libm call blocks
// that, and the cell update costs as much as the recurrent GEMM when it runs one expf at a time), and both backends
// run the same float operations through the IEEE-exact kiln_f* helpers, so given equal pre-activations the CPU and
// the GPU produce bit-identical gates, cell and hidden states. The polynomials and the range reduction are written
// as fused multiply-adds (kiln_fma: one rounding, on both backends): the CPU pass is bound by its floating-point
// pipes, and fusing cut it by 29% (2.5 to 1.8 ms for 819,200 cells on one Zen 5 core), with the same accuracy
// (largest relative error of the sigmoid and the tanh over [-20, 20] against double: 1.75e-7 either way). The CPU
// loops that call these functions must be built with FMA (cpu/simd.h's KILN_VECTOR_CLONES), or fmaf is a call.
#pragma once

#include <stdint.h>

#include "numerics.h"

namespace kiln::lstm {

// What the forward keeps for the backward (the `reserve` of kiln_lstm_forward_f32), the same layout on both
// backends; offsets and sizes in floats, all batch-first like x and y:
//   gates (n, t, 4h)  activated gates i, f, g, o of every step: element (b, s, k*h + j)
//   cell  (n, t, h)   c_s
//   hprev (n, t, h)   h_{s-1}, the hidden state each step read (h0 at s = 0, zeros when h0 is NULL)
// The backward does not receive y, so the hidden states travel in hprev; keeping h_{s-1} rather than h_s makes
// dW_hh = dGates^T hprev one GEMM over all steps, and h_n is never needed. tanh(c_s) is recomputed.
// Total: 6 n t h floats = 24 n t h bytes.
struct ReserveLayout {
    int64_t gates, cell, hprev, total;
};
KILN_HD ReserveLayout reserve_layout(int64_t n, int64_t t, int64_t h) {
    const int64_t nth = n * t * h;
    return ReserveLayout{0, 4 * nth, 5 * nth, 6 * nth};
}

// exp(x) for x <= 0 (NaN passes through). Arguments below -87 are clamped there, which keeps 2^n a normal number:
// the result is then ~1.6e-38 instead of a denormal or 0, a difference no LSTM gate can see.
KILN_HD float exp_nonpos(float x) {
    x = x < -87.0f ? -87.0f : x;
    // n = round(x / ln2) by the 1.5 * 2^23 shifter: t's low mantissa bits then hold n as an integer.
    const float shifter = 12582912.0f;
    const float t = kiln_fma(x, 1.44269504088896341f, shifter);
    const float n = kiln_fadd(t, -shifter);
    // r = x - n ln2 in two pieces (0.693359375 has 9 significant bits, so n * 0.693359375 is exact).
    float r = kiln_fma(n, -0.693359375f, x);
    r = kiln_fma(n, 2.12194440e-4f, r);
    const float z = kiln_fmul(r, r);
    float p = 1.9875691500e-4f;
    p = kiln_fma(p, r, 1.3981999507e-3f);
    p = kiln_fma(p, r, 8.3334519073e-3f);
    p = kiln_fma(p, r, 4.1665795894e-2f);
    p = kiln_fma(p, r, 1.6666665459e-1f);
    p = kiln_fma(p, r, 5.0000001201e-1f);
    const float e = kiln_fadd(kiln_fma(p, z, r), 1.0f);
    const int32_t ni = (int32_t)(kiln_float_to_bits(t) - kiln_float_to_bits(shifter));  // in [-126, 0]
    return kiln_fmul(e, kiln_bits_to_float((uint32_t)(ni + 127) << 23));
}

// sigmoid through exp(-|x|), which never overflows: sigmoid(|x|) = 1/(1+e), sigmoid(-|x|) = e/(1+e).
KILN_HD float gate_sigmoid(float x) {
    const float ax = x < 0.0f ? -x : x;
    const float e = exp_nonpos(-ax);
    const float s = kiln_fdiv(1.0f, kiln_fadd(1.0f, e));
    return x >= 0.0f ? s : kiln_fmul(e, s);
}

// tanh: an odd polynomial near 0, where (1-e)/(1+e) would cancel, and (1-e)/(1+e) with e = exp(-2|x|) <= 0.29
// elsewhere (Cephes tanhf's split). Both sides are computed and one is selected, so vector loops stay branch-free.
KILN_HD float gate_tanh(float x) {
    const float ax = x < 0.0f ? -x : x;
    const float z = kiln_fmul(x, x);
    float p = -5.70498872745e-3f;
    p = kiln_fma(p, z, 2.06390887954e-2f);
    p = kiln_fma(p, z, -5.37397155531e-2f);
    p = kiln_fma(p, z, 1.33314422036e-1f);
    p = kiln_fma(p, z, -3.33332819422e-1f);
    const float small = kiln_fma(kiln_fmul(x, z), p, x);
    const float e = exp_nonpos(kiln_fmul(-2.0f, ax));
    const float big = kiln_fdiv(kiln_fadd(1.0f, -e), kiln_fadd(1.0f, e));
    return ax < 0.625f ? small : (x < 0.0f ? -big : big);
}

// Forward of one cell element. ai..ao are the pre-activations of the four gates (input and recurrent projections
// plus bias), c_prev is c_{t-1}. Returns the activated gates, c_t = f c_{t-1} + i g and h_t = o tanh(c_t).
struct CellOut {
    float i, f, g, o, c, h;
};
// The two halves are also callable apart (the CPU runs them as two passes over a row: see native/src/cpu/lstm.cpp).
KILN_HD float cell_state(float i, float f, float g, float c_prev) { return kiln_fma(f, c_prev, kiln_fmul(i, g)); }
KILN_HD float cell_output(float o, float c) { return kiln_fmul(o, gate_tanh(c)); }
KILN_HD CellOut cell_forward(float ai, float af, float ag, float ao, float c_prev) {
    CellOut r;
    r.i = gate_sigmoid(ai);
    r.f = gate_sigmoid(af);
    r.g = gate_tanh(ag);
    r.o = gate_sigmoid(ao);
    r.c = cell_state(r.i, r.f, r.g, c_prev);
    r.h = cell_output(r.o, r.c);
    return r;
}

// Backward of one cell element. i, f, g, o are the activated gates and c = c_t, c_prev = c_{t-1} from the forward;
// dh is the whole gradient reaching h_t (from y_t and from step t+1), dc the gradient reaching c_t from step t+1.
// Returns the gradients of the four pre-activations and of c_{t-1}. tanh(c_t) is recomputed rather than stored:
// one more tanh per element is cheaper than another (n, t, h) in the reserve, and it equals the forward's bits.
struct CellGrad {
    float di, df, dg, do_, dc_prev;
};
KILN_HD CellGrad cell_backward(float i, float f, float g, float o, float c, float c_prev, float dh, float dc) {
    const float tc = gate_tanh(c);
    CellGrad r;
    // d h/d o = tanh(c); sigmoid' = o (1 - o).
    r.do_ = kiln_fmul(kiln_fmul(dh, tc), kiln_fmul(o, kiln_fadd(1.0f, -o)));
    // Total gradient of c_t: through h_t (o tanh'(c)) plus what flows back from c_{t+1}.
    const float dct = kiln_fadd(dc, kiln_fmul(kiln_fmul(dh, o), kiln_fadd(1.0f, -kiln_fmul(tc, tc))));
    r.di = kiln_fmul(kiln_fmul(dct, g), kiln_fmul(i, kiln_fadd(1.0f, -i)));
    r.df = kiln_fmul(kiln_fmul(dct, c_prev), kiln_fmul(f, kiln_fadd(1.0f, -f)));
    r.dg = kiln_fmul(kiln_fmul(dct, i), kiln_fadd(1.0f, -kiln_fmul(g, g)));
    r.dc_prev = kiln_fmul(dct, f);
    return r;
}

}  // namespace kiln::lstm

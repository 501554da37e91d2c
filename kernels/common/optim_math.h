// Per-element update rules of the optimizers (SGD with momentum/Nesterov, Adam/AdamW), written once for
// native/src/cpu/optim.cpp and kernels/optim.cu. Every operation is an IEEE-exact kiln_f* helper (no fusing), so
// both backends produce the same bits for the same inputs.
#pragma once

#include "numerics.h"

namespace kiln {

// L2 weight decay folded into the gradient; skipped when wd == 0 so an inf/NaN parameter is not turned into
// NaN by 0 * inf (PyTorch skips it too).
KILN_HD float decayed_grad(float g, float param, float wd) {
    return wd != 0.0f ? kiln_fadd(g, kiln_fmul(wd, param)) : g;
}

// SGD without a velocity buffer (momentum == 0): param -= lr * g.
KILN_HD float sgd_plain(float param, float grad, float lr, float wd) {
    return kiln_fadd(param, -kiln_fmul(lr, decayed_grad(grad, param, wd)));
}

// SGD with momentum, PyTorch semantics with dampening 0: v = momentum * v + g;
// step = nesterov ? g + momentum * v : v; param -= lr * step. Updates *param and *velocity.
template <bool Nesterov>
KILN_HD void sgd_momentum(float* param, float grad, float* velocity, float lr, float momentum, float wd) {
    const float p = *param;
    const float g = decayed_grad(grad, p, wd);
    const float v = kiln_fadd(kiln_fmul(momentum, *velocity), g);
    const float step = Nesterov ? kiln_fadd(g, kiln_fmul(momentum, v)) : v;
    *velocity = v;
    *param = kiln_fadd(p, -kiln_fmul(lr, step));
}

// Adam (Decoupled = false: wd * param added to the gradient) or AdamW (Decoupled = true: param *= 1 - lr * wd
// first). m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; param -= lr * (m / bc1) / (sqrt(v / bc2) + eps), with the
// bias corrections bc1 = 1 - b1^t, bc2 = 1 - b2^t supplied by the caller (kiln.h).
template <bool Decoupled>
KILN_HD void adam_update(float* param, float grad, float* m, float* v, float lr, float beta1, float beta2, float eps,
                         float wd, float bc1, float bc2) {
    float p = *param;
    float g = grad;
    if (Decoupled) {
        if (wd != 0.0f) p = kiln_fmul(p, kiln_fadd(1.0f, -kiln_fmul(lr, wd)));
    } else {
        g = decayed_grad(g, p, wd);
    }
    const float m1 = kiln_fadd(kiln_fmul(beta1, *m), kiln_fmul(kiln_fadd(1.0f, -beta1), g));
    const float v1 = kiln_fadd(kiln_fmul(beta2, *v), kiln_fmul(kiln_fadd(1.0f, -beta2), kiln_fmul(g, g)));
    const float denom = kiln_fadd(kiln_fsqrt(kiln_fdiv(v1, bc2)), eps);
    *m = m1;
    *v = v1;
    *param = kiln_fadd(p, -kiln_fdiv(kiln_fmul(lr, kiln_fdiv(m1, bc1)), denom));
}

// The bias correction 1 - beta^step of Adam's step `step` (>= 1): beta^step by square-and-multiply in double, then
// 1 - it rounded once to float. Only IEEE-exact double operations, so the CPU, the GPU (kiln_adam_advance_step) and
// the host (dev.kiln.optim.Adam.biasCorrection, the same loop in Java) agree to the bit, and a captured Adam step
// equals an eager one. Double keeps the product's error (at most ~2 log2(step) ulps of double) far below float's.
KILN_HD float adam_bias_correction(float beta, int64_t step) {
    double base = (double)beta, power = 1.0;
    for (int64_t e = step; e > 0; e >>= 1) {
        if (e & 1) power = kiln_dmul(power, base);
        base = kiln_dmul(base, base);
    }
    return kiln_double_to_float(kiln_dadd(1.0, -power));
}

// One capturable optimizer step's counter: step[0] + 1, saturating where int32 ends (beta^step is 0 in double long
// before, so the corrections stay exact), and the two corrections that step uses. A negative count (never written
// by Kiln) counts as 0, so the corrections stay in (0, 1].
KILN_HD void adam_advance(int32_t* step, float* bias_corrections, float beta1, float beta2) {
    const int32_t taken = *step > 0 ? *step : 0;
    const int32_t s = taken < INT32_MAX ? taken + 1 : INT32_MAX;
    *step = s;
    bias_corrections[0] = adam_bias_correction(beta1, s);
    bias_corrections[1] = adam_bias_correction(beta2, s);
}

}  // namespace kiln

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

}  // namespace kiln

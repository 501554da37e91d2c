// Per-channel and per-element formulas of batch norm, written once for native/src/cpu/batchnorm.cpp and
// kernels/batchnorm.cu. The backends differ only in how they sum a channel (double on the CPU, fp32 block
// reductions on the GPU); everything after the sums goes through these kiln_f* helpers, so eval mode is
// bit-identical across backends and training differs only by the rounding of the sums.
#pragma once

#include <stdint.h>

#include "numerics.h"

namespace kiln {

// invstd = 1 / sqrt(var + eps); eps > 0 (validated) keeps it finite when var == 0 (a constant channel, or n*hw == 1).
KILN_HD float bn_invstd(float var, float eps) { return kiln_fdiv(1.0f, kiln_fsqrt(kiln_fadd(var, eps))); }

// The per-channel scale gamma * invstd; gamma is NULL-able at the ABI, read as 1.
KILN_HD float bn_scale(const float* gamma, int64_t c, float invstd) {
    return gamma ? kiln_fmul(gamma[c], invstd) : invstd;
}
KILN_HD float bn_shift(const float* beta, int64_t c) { return beta ? beta[c] : 0.0f; }

// y = (x - mean) * scale + shift, with scale = gamma * invstd. Subtracting the mean first (rather than folding it into
// the shift) keeps full precision when |mean| >> std.
KILN_HD float bn_apply(float x, float mean, float scale, float shift) {
    return kiln_fadd(kiln_fmul(kiln_fadd(x, -mean), scale), shift);
}

// Bessel's correction m / (m - 1) for the running variance. With m == 1 the unbiased variance is undefined; Kiln
// then uses the batch variance itself, which is exactly 0 there (PyTorch raises instead).
KILN_HD float bn_unbiased_factor(int64_t m) { return m > 1 ? (float)((double)m / (double)(m - 1)) : 1.0f; }

// running = (1 - momentum) running + momentum batch.
KILN_HD float bn_running_update(float running, float batch, float momentum) {
    return kiln_fadd(kiln_fmul(kiln_fadd(1.0f, -momentum), running), kiln_fmul(momentum, batch));
}

// Backward of the training form for one element. With xhat = (x - mean) invstd, g = sum dy, gx = sum dy xhat over
// the channel's m elements:
//   dx = gamma invstd (dy - g / m - xhat gx / m),   dgamma = gx,   dbeta = g.
// scale = gamma * invstd, mean_dy = g / m, mean_dy_xhat = gx / m.
KILN_HD float bn_backward_dx(float x, float dy, float mean, float invstd, float scale, float mean_dy,
                             float mean_dy_xhat) {
    const float xhat = kiln_fmul(kiln_fadd(x, -mean), invstd);
    return kiln_fmul(scale, kiln_fadd(kiln_fadd(dy, -mean_dy), -kiln_fmul(xhat, mean_dy_xhat)));
}

// Backward of the evaluation form for one element: y = (x - running_mean) scale + shift is affine in x with the
// per-channel scale = gamma * invstd (bn_scale of the running variance's bn_invstd, exactly as the eval forward
// computed it), so dx = dy * scale. dgamma and dbeta are channel sums, done by each backend in its own precision.
KILN_HD float bn_backward_eval_dx(float dy, float scale) { return kiln_fmul(dy, scale); }

}  // namespace kiln

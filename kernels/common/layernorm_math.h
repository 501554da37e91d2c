// Per-row and per-element formulas of layer norm, written once for native/src/cpu/layernorm.cpp and
// kernels/layernorm.cu. The backends differ only in how they sum a row (double on the CPU, fp32 Welford merges on the
// GPU); everything after the sums goes through these kiln_f* helpers, so given the same mean and rstd both backends
// produce the same bits.
#pragma once

#include <stdint.h>

#include "numerics.h"

namespace kiln {

// rstd = 1 / sqrt(var + eps) of the biased variance; eps > 0 (validated) keeps it finite for a constant row.
KILN_HD float ln_rstd(float var, float eps) { return kiln_fdiv(1.0f, kiln_fsqrt(kiln_fadd(var, eps))); }

// xhat = (x - mean) rstd. Subtracting the mean first keeps full precision when |mean| >> std.
KILN_HD float ln_xhat(float x, float mean, float rstd) { return kiln_fmul(kiln_fadd(x, -mean), rstd); }

// y = xhat gamma + beta. An absent gamma or beta is passed as 1 or 0, which leave xhat exactly as it is.
KILN_HD float ln_apply(float x, float mean, float rstd, float gamma, float beta) {
    return kiln_fadd(kiln_fmul(ln_xhat(x, mean, rstd), gamma), beta);
}

// dx of one element. With g = dy gamma and the row means mean_g = sum g / cols, mean_gxhat = sum g xhat / cols:
//   dx = rstd (g - mean_g - xhat mean_gxhat),   dgamma = sum over rows of dy xhat,   dbeta = sum over rows of dy.
KILN_HD float ln_backward_dx(float x, float dy, float gamma, float mean, float rstd, float mean_g, float mean_gxhat) {
    const float xhat = ln_xhat(x, mean, rstd);
    const float g = kiln_fmul(dy, gamma);
    return kiln_fmul(rstd, kiln_fadd(kiln_fadd(g, -mean_g), -kiln_fmul(xhat, mean_gxhat)));
}

}  // namespace kiln

// Per-element formulas of the reduction, softmax and loss ops, written once for the CPU backend and the CUDA kernels:
// the online-softmax state, stable logsumexp / sigmoid / BCE terms, the argmax order and the loss gradients.
#pragma once

#include "numerics.h"

#if !defined(__CUDA_ARCH__)
#include <cmath>
#endif

namespace kiln {

// Full-precision exp / log / log1p: CUDA's expf (<= 2 ulp) and glibc's (< 1 ulp), never the fast intrinsics, so the
// backends differ by an ulp or two and never in which inputs overflow. (philox.h's kiln_logf is a different,
// bit-reproducible polynomial; these are the library ones.)
KILN_HD float kiln_exp_f32(float x) {
#if defined(__CUDA_ARCH__)
    return expf(x);
#else
    return std::exp(x);
#endif
}
KILN_HD float kiln_log_f32(float x) {
#if defined(__CUDA_ARCH__)
    return logf(x);
#else
    return std::log(x);
#endif
}
KILN_HD float kiln_log1p_f32(float x) {
#if defined(__CUDA_ARCH__)
    return log1pf(x);
#else
    return std::log1p(x);
#endif
}

KILN_HD float kiln_neg_inf() { return kiln_bits_to_float(0xff800000u); }
KILN_HD float kiln_pos_inf() { return kiln_bits_to_float(0x7f800000u); }
KILN_HD float kiln_qnan() { return kiln_bits_to_float(0x7fc00000u); }
KILN_HD bool kiln_isnan(float x) { return x != x; }

// ---- softmax / logsumexp ---------------------------------------------------------------------------------------
// The reference ("two-pass") form, used by the CPU and by rows the GPU holds in registers:
//   m = max over the row ignoring NaN (start -inf, keep x when x > m),  s = sum exp(x - m),
//   softmax = exp(x - m) / s,  log_softmax = (x - m) - log(s),  logsumexp = m + log(s).
// Consequences, identical on both backends: a NaN anywhere, a +inf anywhere, or a row of only -inf makes s NaN and
// so the whole row (and its logsumexp) NaN; -inf next to a finite maximum is an exact 0 (masking works).

KILN_HD float softmax_out(float e, float s) { return kiln_fdiv(e, s); }  // e = exp(x - m)
KILN_HD float log_softmax_out(float x, float m, float log_s) { return kiln_fadd(kiln_fadd(x, -m), -log_s); }
KILN_HD float logsumexp_of(float m, float s) { return kiln_fadd(m, kiln_log_f32(s)); }

// Online form (Milakov & Gimelshein 2018): one pass keeps (m, s) and rescales s when m grows, so a row that does not
// fit in registers is read once for its statistics instead of twice. update() and merge() are written so that the
// result equals the two-pass form's in every special case above, whatever order the elements arrive in:
//   - an empty part is (-inf, 0); a part of only -inf elements is (-inf, NaN), exactly what the two-pass form's
//     exp(-inf - -inf) gives while the max is still -inf, and it contributes 0 once a finite max exists;
//   - a NaN element makes the state (NaN, NaN), which nothing can undo (merge propagates a NaN max).
struct SoftmaxState {
    float m;  // running maximum
    float s;  // sum of exp(x - m) over the elements seen
};

KILN_HD SoftmaxState softmax_state_empty() { return SoftmaxState{kiln_neg_inf(), 0.0f}; }

// Part z's sum re-expressed against the larger max m.
KILN_HD float softmax_rescaled(SoftmaxState z, float m) {
    if (z.m == kiln_neg_inf()) return m == kiln_neg_inf() ? z.s : 0.0f;
    return kiln_fmul(z.s, kiln_exp_f32(kiln_fadd(z.m, -m)));
}

KILN_HD void softmax_update(SoftmaxState& st, float x) {
    if (x > st.m) {
        // exp(x - x): 1 for finite x, NaN for +inf (as the two-pass form's exp(inf - inf)).
        st.s = kiln_fadd(softmax_rescaled(st, x), kiln_fadd(1.0f, kiln_fadd(x, -x)));
        st.m = x;
    } else if (kiln_isnan(x)) {
        st.m = x;
        st.s = x;
    } else {
        st.s = kiln_fadd(st.s, kiln_exp_f32(kiln_fadd(x, -st.m)));
    }
}

// Commutative (bitwise, up to the sign of a zero max), so xor-butterfly shuffles leave every lane the same bits.
KILN_HD SoftmaxState softmax_merge(SoftmaxState a, SoftmaxState b) {
    float m;
    if (kiln_isnan(a.m)) m = a.m;
    else if (kiln_isnan(b.m)) m = b.m;
    else m = b.m > a.m ? b.m : a.m;
    return SoftmaxState{m, kiln_fadd(softmax_rescaled(a, m), softmax_rescaled(b, m))};
}

// Softmax backward from the forward output y (rows reduced first: dot = sum dy*y, or sum dy for log_softmax).
KILN_HD float softmax_grad(float y, float dy, float dot) { return kiln_fmul(y, kiln_fadd(dy, -dot)); }
KILN_HD float log_softmax_grad(float y, float dy, float sum_dy) {
    return kiln_fadd(dy, -kiln_fmul(kiln_exp_f32(y), sum_dy));
}

// ---- argmax ----------------------------------------------------------------------------------------------------
// The order behind max_lastdim: NaN ranks above every number (the first NaN is the max, as torch.max propagates it),
// then the larger value, then the smaller index. It is a total order, so any reduction tree returns what a
// left-to-right scan returns: the first index attaining the max.
struct ArgMax {
    float v;
    int32_t i;
};

KILN_HD ArgMax argmax_empty() { return ArgMax{kiln_neg_inf(), 0x7fffffff}; }

KILN_HD bool argmax_beats(ArgMax a, ArgMax b) {
    const bool an = kiln_isnan(a.v), bn = kiln_isnan(b.v);
    if (an || bn) return an && (!bn || a.i < b.i);
    if (a.v != b.v) return a.v > b.v;
    return a.i < b.i;
}

KILN_HD ArgMax argmax_merge(ArgMax a, ArgMax b) { return argmax_beats(b, a) ? b : a; }

// ---- losses ----------------------------------------------------------------------------------------------------

// Mean of n terms from their sum (accumulated in double on the CPU, fp32 on the GPU, rounded to fp32 either way);
// n == 0 gives NaN (0/0), as torch does. An fp32 division: a double one costs the GPU a slow-path call.
KILN_HD float mean_of(float sum, int64_t n) { return kiln_fdiv(sum, (float)n); }
// The factor every loss gradient carries: dloss[0] / n, in fp32 the same way on both backends.
KILN_HD float loss_grad_scale(float dloss, int64_t n) { return kiln_fdiv(dloss, (float)n); }

// Cross entropy of one row from its logsumexp; a label outside [0, cols) gives NaN.
KILN_HD bool label_valid(int32_t label, int64_t cols) { return label >= 0 && (int64_t)label < cols; }
KILN_HD float cross_entropy_row(float lse, const float* row, int32_t label, int64_t cols) {
    return label_valid(label, cols) ? kiln_fadd(lse, -row[label]) : kiln_qnan();
}
// dlogits = (softmax - onehot) * scale, the softmax taken from the saved logsumexp.
KILN_HD float cross_entropy_grad(float logit, float lse, bool is_label, float scale) {
    return kiln_fmul(kiln_fadd(kiln_exp_f32(kiln_fadd(logit, -lse)), is_label ? -1.0f : 0.0f), scale);
}

// max(x, 0) - x t + log1p(exp(-|x|)): exp never sees a positive argument, so |x| = 100 is exact and finite.
// At x = +-inf that form is inf - inf or 0 * inf (NaN); the term's limit there is w |x| with w = 1 - t (x = +inf) or
// t (x = -inf): 0 where w is 0 (a confident right answer), +inf where w > 0, NaN for a NaN target. Only infinite x
// takes that branch, so every finite logit keeps its bits.
KILN_HD float bce_logits_term(float x, float t) {
    const float ax = x < 0.0f ? -x : x;
    if (ax == kiln_pos_inf()) {
        const float w = x > 0.0f ? kiln_fadd(1.0f, -t) : t;
        return w == 0.0f ? 0.0f : kiln_fmul(w, kiln_pos_inf());
    }
    return kiln_fadd(kiln_fadd(x > 0.0f ? x : 0.0f, -kiln_fmul(x, t)), kiln_log1p_f32(kiln_exp_f32(-ax)));
}
// sigmoid without overflow: exp of a non-positive argument only.
KILN_HD float sigmoid_stable(float x) {
    if (x >= 0.0f) return kiln_fdiv(1.0f, kiln_fadd(1.0f, kiln_exp_f32(-x)));
    const float e = kiln_exp_f32(x);
    return kiln_fdiv(e, kiln_fadd(1.0f, e));
}
KILN_HD float bce_logits_grad(float x, float t, float scale) {
    return kiln_fmul(kiln_fadd(sigmoid_stable(x), -t), scale);
}

KILN_HD float mse_term(float x, float t) {
    const float d = kiln_fadd(x, -t);
    return kiln_fmul(d, d);
}
KILN_HD float mse_grad(float x, float t, float scale) { return kiln_fmul(kiln_fmul(2.0f, kiln_fadd(x, -t)), scale); }

}  // namespace kiln

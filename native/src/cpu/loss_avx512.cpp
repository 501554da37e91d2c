// AVX-512 spans of BCE with logits (cpu/loss_avx512.h): the term max(x, 0) - x t + log1p(exp(-|x|)) (its limit at
// x = +-inf) and the gradient (sigmoid(x) - t) scale, 16 lanes at a time, with the scalar formulas' operations in the
// scalar order (kernels/common/softmax_math.h) and the vector exp / log1p of cpu/avx512_math.h. Built with the AVX-512
// flags.
#include <cmath>

#include "cpu/avx512_math.h"
#include "cpu/loss_avx512.h"

namespace kiln::cpu::avx512 {

double bce_logits_sum(const float* x, const float* t, int64_t n) {
    DoubleSum sum;
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 m = tail_mask(n - j);
        const V xv = _mm512_maskz_loadu_ps(m, x + j), tv = _mm512_maskz_loadu_ps(m, t + j);
        const V relu = _mm512_max_ps(xv, k(0.0f));  // a NaN x gives 0 here, and NaN through x t
        V term = add(sub(relu, mul(xv, tv)), log1p_unit(exp_nonpos(sub(k(0.0f), vabs(xv)))));
        const __mmask16 infinite = _mm512_cmp_ps_mask(vabs(xv), k(INFINITY), _CMP_EQ_OQ);
        if (infinite) {  // the scalar term's limit w |x|, w = 1 - t at +inf and t at -inf, 0 where w is 0
            const __mmask16 positive = _mm512_cmp_ps_mask(xv, k(0.0f), _CMP_GT_OQ);
            const V w = _mm512_mask_blend_ps(positive, tv, sub(k(1.0f), tv));
            const __mmask16 w_zero = _mm512_cmp_ps_mask(w, k(0.0f), _CMP_EQ_OQ);
            term = _mm512_mask_blend_ps(infinite, term, _mm512_mask_blend_ps(w_zero, mul(w, k(INFINITY)), k(0.0f)));
        }
        // Masked-off lanes load zeros: their term is log1p(1) = ln2, so they are left out of the sums.
        sum.add(term, m);
    }
    return sum.total();
}

void bce_logits_grad(const float* x, const float* t, float scale, float* dx, int64_t n) {
    const V sv = k(scale);
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 m = tail_mask(n - j);
        const V xv = _mm512_maskz_loadu_ps(m, x + j), tv = _mm512_maskz_loadu_ps(m, t + j);
        // sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) below, e = exp(-|x|): one division, as the scalar one.
        const V e = exp_nonpos(sub(k(0.0f), vabs(xv)));
        const __mmask16 nonneg = _mm512_cmp_ps_mask(xv, k(0.0f), _CMP_GE_OQ);
        const V sig = _mm512_div_ps(_mm512_mask_blend_ps(nonneg, e, k(1.0f)), add(k(1.0f), e));
        _mm512_mask_storeu_ps(dx + j, m, mul(sub(sig, tv), sv));
    }
}

}  // namespace kiln::cpu::avx512

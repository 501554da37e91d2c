// AVX-512 spans of the softmax family (cpu/reduce_rows.h): exp(x - m) for a row and its double-precision sum, and the
// cross-entropy gradient of a row, 16 lanes at a time with the vector exp of cpu/avx512_math.h in place of glibc's
// expf (the scalar loops spent 4 ns per element in it). The scalar formulas' operations, in their order
// (kernels/common/softmax_math.h). Built with the AVX-512 flags.
#include "cpu/avx512_math.h"
#include "cpu/reduce_rows.h"

namespace kiln::cpu::avx512 {

double sum_exp_shifted(const float* x, int64_t n, float m) {
    DoubleSum sum;
    const V mv = k(m);
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 mask = tail_mask(n - j);
        sum.add(exp_nonpos(sub(_mm512_maskz_loadu_ps(mask, x + j), mv)), mask);
    }
    return sum.total();
}

void exp_shifted(const float* x, int64_t n, float m, float* y) {
    const V mv = k(m);
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 mask = tail_mask(n - j);
        _mm512_mask_storeu_ps(y + j, mask, exp_nonpos(sub(_mm512_maskz_loadu_ps(mask, x + j), mv)));
    }
}

void cross_entropy_grad_row(const float* x, int64_t n, float lse, int64_t label, float scale, float* d) {
    const V lv = k(lse), sv = k(scale);
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 mask = tail_mask(n - j);
        const V e = exp_nonpos(sub(_mm512_maskz_loadu_ps(mask, x + j), lv));
        // (exp(x - lse) + (is_label ? -1 : 0)) * scale: the label's lane subtracts 1, the others add 0.
        const __mmask16 is_label = label >= j && label < j + 16 ? (__mmask16)(1u << (label - j)) : (__mmask16)0;
        const V shifted = add(e, _mm512_mask_blend_ps(is_label, k(0.0f), k(-1.0f)));
        _mm512_mask_storeu_ps(d + j, mask, mul(shifted, sv));
    }
}

}  // namespace kiln::cpu::avx512

// AVX-512 spans of the exact GELU, x Phi(x), and its derivative Phi(x) + x phi(x): a vector exp and a vector
// erfc-based Phi of our own (the scalar path calls glibc's erfcf / expf per element, which the profile showed costing
// more than every GEMM of a Transformer step). Built with the AVX-512 flags (CMakeLists.txt, *_avx512.cpp).
//
// Phi(x) for |x| < 1: 1/2 + x Q(x^2), the Taylor series of erf (exact coefficients, 10 terms).
// Phi(-a) for 1 <= a < 15: erfc(z)/2 with z = a/sqrt2, written erfc(z) = t exp(-z^2) exp(g(t)), t = 1/(1 + z/2), g a
// degree-9 polynomial fitted (weighted least squares, max error 1.3e-9) to log(erfc(z)/t) + z^2 over the range of t.
// z^2 = a^2/2 is taken exactly as a hi + lo pair (an fma), so the huge exponent keeps relative accuracy: rounding
// a^2 alone would cost up to ~100 ulp at a = 14. The exp is range-reduced by hand into (mantissa, power of two): the
// mantissas are multiplied while normal and the power applied once by scalef, so results near the underflow round
// once.
// Phi(a) = 1 - Phi(-a). |x| >= 15: Phi is 0 or 1 and phi 0 in float, taken as exactly that, computing x * 0 so that
// gelu(-inf) is NaN as in the scalar formula. NaN goes through the arithmetic of the tail lanes and stays NaN.
// Accuracy (test_elementwise_activation_cpu's sweep): a few ulp of the true GELU; see the report of that test.
#include "cpu/elementwise_simd.h"

#include "cpu/avx512_math.h"

namespace kiln::cpu::avx512 {

namespace {

// The pieces of Phi and phi at x, everything a lane needs for the forward or the derivative.
struct GeluParts {
    V small_phi;  // Phi(x) by the series, valid for |x| < 1
    V m, n;       // Phi(-|x|) = m 2^n, valid for 1 <= |x| < 15
    V pdf_m;      // phi(x) = pdf_m 2^n_pdf
    V n_pdf;
    __mmask16 small, big, neg;
};

inline GeluParts gelu_parts(V x) {
    GeluParts g;
    const V ax = vabs(x);
    g.small = _mm512_cmp_ps_mask(ax, k(1.0f), _CMP_LT_OQ);
    g.big = _mm512_cmp_ps_mask(ax, k(15.0f), _CMP_GE_OQ);
    g.neg = _mm512_cmp_ps_mask(x, k(0.0f), _CMP_LT_OQ);

    // Series: Phi(x) = 1/2 + x sum_n (-1)^n x^(2n) / (sqrt(2 pi) n! (2n+1) 2^n).
    const V s = mul(x, x);
    V q = k(-1.130117164e-10f);  // n = 9
    q = fma(q, s, k(2.273529824e-09f));
    q = fma(q, s, k(-4.122667415e-08f));
    q = fma(q, s, k(6.659693516e-07f));
    q = fma(q, s, k(-9.444656260e-06f));
    q = fma(q, s, k(1.154346876e-04f));
    q = fma(q, s, k(-1.187328215e-03f));
    q = fma(q, s, k(9.973557010e-03f));
    q = fma(q, s, k(-6.649038007e-02f));
    q = fma(q, s, k(3.989422804e-01f));
    g.small_phi = fma(x, q, k(0.5f));

    // Tail, on a = min(|x|, 15) (NaN becomes 15 here; its lanes take x through the final arithmetic).
    const V a = _mm512_min_ps(ax, k(15.0f));
    const V h = mul(a, a);
    const V l = _mm512_fmsub_ps(a, a, h);  // a^2 = h + l exactly
    const V hh = mul(h, k(0.5f)), ll = mul(l, k(0.5f));
    // -a^2/2 = n1 ln2 + r1 - ll: the big exponent reduced exactly, the low part added to the small remainder.
    const Reduced e = reduce_ln2(sub(k(0.0f), hh));
    const V r1 = sub(e.r, ll);
    const V z = mul(a, k(0.70710678118654752f));
    const V t = _mm512_div_ps(k(1.0f), fma(z, k(0.5f), k(1.0f)));
    const V u = sub(t, k(0.4375f));
    V gp = k(2.400250468e-01f);
    gp = fma(gp, u, k(-1.941275500e-01f));
    gp = fma(gp, u, k(-2.270155974e-01f));
    gp = fma(gp, u, k(2.299845107e-01f));
    gp = fma(gp, u, k(2.165762414e-01f));
    gp = fma(gp, u, k(-2.370566534e-01f));
    gp = fma(gp, u, k(-3.253469520e-01f));
    gp = fma(gp, u, k(2.553558356e-01f));
    gp = fma(gp, u, k(1.317393360e+00f));
    gp = fma(gp, u, k(-7.550458255e-01f));
    // erfc(z) / t = exp(-z^2 + g) = 2^n1 exp(r1 + g), one more reduction of the small sum r1 + g (|.| < 1.7).
    const Reduced eg = reduce_ln2(add(r1, gp));
    g.m = mul(exp_poly(eg.r), t);
    g.n = add(add(e.n, eg.n), k(-1.0f));  // erfc / 2
    g.pdf_m = mul(exp_poly(r1), k(0.39894228040143268f));
    g.n_pdf = e.n;
    return g;
}

inline V gelu_fwd(V x) {
    const GeluParts g = gelu_parts(x);
    const V tail_neg = scalef(mul(x, g.m), g.n);                          // x Phi(x), x <= -1
    const V tail_pos = mul(x, sub(k(1.0f), scalef(g.m, g.n)));            // x (1 - Phi(-x)), x >= 1 (and NaN)
    V y = _mm512_mask_blend_ps(g.neg, tail_pos, tail_neg);
    y = _mm512_mask_blend_ps(g.small, y, mul(x, g.small_phi));
    const V big = _mm512_mask_blend_ps(g.neg, x, mul(x, k(0.0f)));       // x Phi(x) with Phi = 1 or 0
    return _mm512_mask_blend_ps(g.big, y, big);
}

// gelu'(x) = Phi(x) + x phi(x).
inline V gelu_deriv(V x) {
    const GeluParts g = gelu_parts(x);
    // x <= -1: both terms share exp(-x^2/2): (m + x pdf_m') 2^n with the pdf mantissa moved to the power n.
    const V pdf_in_n = scalef(g.pdf_m, sub(g.n_pdf, g.n));  // pdf mantissa relative to 2^n (a small power: -1..1)
    const V tail_neg = scalef(fma(x, pdf_in_n, g.m), g.n);
    const V x_pdf = mul(x, scalef(g.pdf_m, g.n_pdf));
    const V tail_pos = add(sub(k(1.0f), scalef(g.m, g.n)), x_pdf);
    V d = _mm512_mask_blend_ps(g.neg, tail_pos, tail_neg);
    d = _mm512_mask_blend_ps(g.small, d, add(g.small_phi, x_pdf));
    const V big = add(_mm512_mask_blend_ps(g.neg, k(1.0f), k(0.0f)), mul(x, k(0.0f)));
    return _mm512_mask_blend_ps(g.big, d, big);
}

inline V load_input(const float* x, const float* bias, int64_t j, __mmask16 m) {
    const V v = _mm512_maskz_loadu_ps(m, x + j);
    return bias ? add(v, _mm512_maskz_loadu_ps(m, bias + j)) : v;  // no bias: no + 0, which would turn -0 into +0
}

}  // namespace

void gelu_span(const float* x, const float* bias, float* y, int64_t n) {
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 m = tail_mask(n - j);
        _mm512_mask_storeu_ps(y + j, m, gelu_fwd(load_input(x, bias, j, m)));
    }
}

void gelu_backward_span(const float* x, const float* bias, const float* dy, float* out, double* acc, int64_t n) {
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 m = tail_mask(n - j);
        const V v = load_input(x, bias, j, m);
        const V g = mul(_mm512_maskz_loadu_ps(m, dy + j), gelu_deriv(v));
        if (out) _mm512_mask_storeu_ps(out + j, m, g);
        if (acc) {
            const __m512d lo = widen_lo(g), hi = widen_hi(g);
            const __mmask8 mlo = (__mmask8)(m & 0xff), mhi = (__mmask8)(m >> 8);
            _mm512_mask_storeu_pd(acc + j, mlo, _mm512_add_pd(_mm512_maskz_loadu_pd(mlo, acc + j), lo));
            _mm512_mask_storeu_pd(acc + j + 8, mhi, _mm512_add_pd(_mm512_maskz_loadu_pd(mhi, acc + j + 8), hi));
        }
    }
}

// tanh(x) = -expm1(-2|x|) / (2 + expm1(-2|x|)) with the sign of x: expm1 keeps small |x| accurate, and
// -2|x| <= 0 never overflows. NaN stays NaN through the arithmetic; |x| large gives 1 exactly.
void tanh_span(const float* x, float* y, int64_t n) {
    const V sign_bit = _mm512_castsi512_ps(_mm512_set1_epi32((int)0x80000000u));
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 m = tail_mask(n - j);
        const V v = _mm512_maskz_loadu_ps(m, x + j);
        const V em1 = expm1_nonpos(mul(k(-2.0f), vabs(v)));
        const V t = _mm512_div_ps(sub(k(0.0f), em1), add(k(2.0f), em1));
        _mm512_mask_storeu_ps(y + j, m, _mm512_or_ps(t, _mm512_and_ps(v, sign_bit)));
    }
}

// sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) below, e = exp(-|x|): the scalar sigmoid_f's one division.
void sigmoid_span(const float* x, float* y, int64_t n) {
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 m = tail_mask(n - j);
        const V v = _mm512_maskz_loadu_ps(m, x + j);
        const V e = exp_nonpos(sub(k(0.0f), vabs(v)));
        const __mmask16 nonneg = _mm512_cmp_ps_mask(v, k(0.0f), _CMP_GE_OQ);
        _mm512_mask_storeu_ps(y + j, m, _mm512_div_ps(_mm512_mask_blend_ps(nonneg, e, k(1.0f)), add(k(1.0f), e)));
    }
}

}  // namespace kiln::cpu::avx512

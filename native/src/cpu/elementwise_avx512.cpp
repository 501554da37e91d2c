// AVX-512 spans of the exact GELU, x Phi(x), and its derivative Phi(x) + x phi(x): vector code of our own (the scalar
// path calls glibc's erfcf / expf per element, which the profile showed costing more than every GEMM of a Transformer
// step). Built with the AVX-512 flags (CMakeLists.txt, *_avx512.cpp). Everything is written through a = |x| and the
// lower tail Phi(-a): gelu(-a) = -a Phi(-a), gelu(a) = a - a Phi(-a); the derivative Phi(x) + x phi(x) likewise.
//
// a < 3.9375, nearly every lane of real activations: Phi(-a) and phi(a) from tables (gelu_tables.h, written by
// gelu_tables.py), a degree-5 polynomial on each of 32 intervals of width 1/8, the interval's coefficients picked per
// lane by a two-register permute. About 1 ulp each; 20 vector operations for the forward where the exp-based path
// below takes 60 and a divide. A block of 16 whose lanes all fall there runs the tables alone.
// 3.9375 <= a < 15: erfc(z)/2 with z = a/sqrt2, written erfc(z) = t exp(-z^2) exp(g(t)), t = 1/(1 + z/2), g a
// degree-9 polynomial fitted (weighted least squares, max error 1.3e-9) to log(erfc(z)/t) + z^2 over t's range for
// 1 <= a < 15. z^2 = a^2/2 is taken exactly as a hi + lo pair (an fma), so the huge exponent keeps relative accuracy:
// rounding a^2 alone would cost up to ~100 ulp at a = 14. The exp is range-reduced by hand into (mantissa, power of
// two): the mantissas are multiplied while normal and the power applied once by scalef, so results near the
// underflow round once.
// a >= 15: Phi is 0 or 1 and phi 0 in float, taken as exactly that, computing x * 0 so that gelu(-inf) is NaN as in
// the scalar formula. NaN goes through the arithmetic of the tail lanes and stays NaN.
// A lane's result depends on its own x only: blocks that need the exp path still take the table's value for their
// table lanes. Accuracy (test_elementwise_activation_cpu's sweep): a few ulp of the true GELU; see that test's report.
#include "cpu/elementwise_simd.h"

#include "cpu/avx512_math.h"
#include "cpu/gelu_tables.h"

namespace kiln::cpu::avx512 {

namespace {

// One permute of two registers picks among 32 coefficients: the tables must have exactly that many intervals.
static_assert(kGeluIntervals == 32, "table_poly looks coefficients up with one two-register permute");

// Lanes whose x is negative, -0 included (gelu(-0) = -0 as x Phi(x) gives it).
inline __mmask16 negative(V x) { return _mm512_movepi32_mask(_mm512_castps_si512(x)); }

// Where a sits in the tables: the interval i = round(8a) (only its low 5 bits are read, so lanes past the tables
// read some interval and are blended away) and the exact offset u = a - i/8, |u| <= 1/16.
struct TableSpot {
    __m512i i;
    V u;
};
inline TableSpot table_spot(V a) {
    const V i = _mm512_roundscale_ps(mul(a, k(kGeluPerUnit)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return {_mm512_cvtps_epi32(i), _mm512_fnmadd_ps(i, k(1.0f / kGeluPerUnit), a)};
}

inline V table_poly(const float (&c)[kGeluDegree + 1][kGeluIntervals], TableSpot s) {
    const auto coef = [&](int n) {
        return _mm512_permutex2var_ps(_mm512_load_ps(c[n]), s.i, _mm512_load_ps(c[n] + 16));
    };
    V p = coef(kGeluDegree);
    for (int n = kGeluDegree - 1; n >= 0; --n) p = fma(p, s.u, coef(n));
    return p;
}

// The exp-based pieces for 3.9375 <= a < 15: Phi(-a) = m 2^n and phi(a) = pdf_m 2^n_pdf.
struct TailParts {
    V m, n, pdf_m, n_pdf;
};

inline TailParts tail_parts(V ax) {
    const V a = _mm512_min_ps(ax, k(15.0f));  // NaN becomes 15 here; its lanes take x through the final arithmetic
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
    TailParts p;
    p.m = mul(exp_poly(eg.r), t);
    p.n = add(add(e.n, eg.n), k(-1.0f));  // erfc / 2
    p.pdf_m = mul(exp_poly(r1), k(0.39894228040143268f));
    p.n_pdf = e.n;
    return p;
}

// gelu(x) from the tables, for lanes with |x| < kGeluTableEnd.
inline V gelu_table(V x, __mmask16 neg, TableSpot s) {
    const V x_lower = mul(x, table_poly(kGeluLowerTail, s));  // x Phi(-|x|)
    return _mm512_mask_sub_ps(x_lower, (__mmask16)~neg, x, x_lower);
}

inline V gelu_fwd(V x) {
    const V ax = vabs(x);
    const __mmask16 neg = negative(x), table = _mm512_cmp_ps_mask(ax, k(kGeluTableEnd), _CMP_LT_OQ);
    const V near = gelu_table(x, neg, table_spot(ax));
    if (table == 0xffff) return near;
    const TailParts g = tail_parts(ax);
    const V tail_neg = scalef(mul(x, g.m), g.n);                          // x Phi(x), x <= -kGeluTableEnd
    const V tail_pos = mul(x, sub(k(1.0f), scalef(g.m, g.n)));            // x (1 - Phi(-x)), x >= kGeluTableEnd, NaN
    V y = _mm512_mask_blend_ps(neg, tail_pos, tail_neg);
    const __mmask16 big = _mm512_cmp_ps_mask(ax, k(15.0f), _CMP_GE_OQ);
    y = _mm512_mask_blend_ps(big, y, _mm512_mask_blend_ps(neg, x, mul(x, k(0.0f))));  // x Phi(x), Phi = 1 or 0
    return _mm512_mask_blend_ps(table, y, near);
}

// gelu'(x) = Phi(x) + x phi(x) from the tables: Phi(x) is Phi(-|x|) for x < 0 and 1 - Phi(-|x|) otherwise.
inline V gelu_deriv_table(V x, __mmask16 neg, TableSpot s) {
    const V lower = table_poly(kGeluLowerTail, s);
    const V cdf = _mm512_mask_sub_ps(lower, (__mmask16)~neg, k(1.0f), lower);
    return fma(x, table_poly(kGeluDensity, s), cdf);
}

inline V gelu_deriv(V x) {
    const V ax = vabs(x);
    const __mmask16 neg = negative(x), table = _mm512_cmp_ps_mask(ax, k(kGeluTableEnd), _CMP_LT_OQ);
    const V near = gelu_deriv_table(x, neg, table_spot(ax));
    if (table == 0xffff) return near;
    const TailParts g = tail_parts(ax);
    // x <= -kGeluTableEnd: both terms share exp(-x^2/2): (m + x pdf_m') 2^n with the pdf mantissa moved to the power n.
    const V pdf_in_n = scalef(g.pdf_m, sub(g.n_pdf, g.n));  // pdf mantissa relative to 2^n (a small power: -1..1)
    const V tail_neg = scalef(fma(x, pdf_in_n, g.m), g.n);
    const V x_pdf = mul(x, scalef(g.pdf_m, g.n_pdf));
    const V tail_pos = add(sub(k(1.0f), scalef(g.m, g.n)), x_pdf);
    V d = _mm512_mask_blend_ps(neg, tail_pos, tail_neg);
    const __mmask16 big = _mm512_cmp_ps_mask(ax, k(15.0f), _CMP_GE_OQ);
    d = _mm512_mask_blend_ps(big, d, add(_mm512_mask_blend_ps(neg, k(1.0f), k(0.0f)), mul(x, k(0.0f))));
    return _mm512_mask_blend_ps(table, d, near);
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

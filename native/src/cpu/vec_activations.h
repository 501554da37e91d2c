// Vector spans of the exact GELU, x Phi(x), and its derivative Phi(x) + x phi(x), and of tanh and sigmoid, written
// once over a lane set L (cpu/vec_math.h) and instantiated per ISA: elementwise_avx512.cpp (16 lanes) and
// elementwise_avx2.cpp (8 lanes) give the same bits. Vector code of our own: the scalar path calls glibc's erfcf /
// expf / tanhf per element, which the profile showed costing more than every GEMM of a Transformer step.
// Everything is written through a = |x| and the lower tail Phi(-a): gelu(-a) = -a Phi(-a), gelu(a) = a - a Phi(-a);
// the derivative Phi(x) + x phi(x) likewise.
//
// a < 3.9375, nearly every lane of real activations: Phi(-a) and phi(a) from tables (gelu_tables.h, written by
// gelu_tables.py), a degree-5 polynomial on each of 32 intervals of width 1/8, the interval's coefficients picked per
// lane by L::lookup32. About 1 ulp each; 20 vector operations for the forward where the exp-based path below takes 60
// and a divide. A register whose lanes all fall there runs the tables alone.
// 3.9375 <= a < 15: erfc(z)/2 with z = a/sqrt2, written erfc(z) = t exp(-z^2) exp(g(t)), t = 1/(1 + z/2), g a
// degree-9 polynomial fitted (weighted least squares, max error 1.3e-9) to log(erfc(z)/t) + z^2 over t's range for
// 1 <= a < 15. z^2 = a^2/2 is taken exactly as a hi + lo pair (an fma), so the huge exponent keeps relative accuracy:
// rounding a^2 alone would cost up to ~100 ulp at a = 14. The exp is range-reduced by hand into (mantissa, power of
// two): the mantissas are multiplied while normal and the power applied once by L::scalef, so results near the
// underflow round once.
// a >= 15: Phi is 0 or 1 and phi 0 in float, taken as exactly that, computing x * 0 so that gelu(-inf) is NaN as in
// the scalar formula. NaN goes through the arithmetic of the tail lanes and stays NaN.
// A lane's result depends on its own x only: registers that need the exp path still take the table's value for their
// table lanes. Accuracy (test_elementwise_activation_cpu's sweep): a few ulp of the true GELU; see that test's report.
#pragma once

#include <cstdint>

#include "cpu/gelu_tables.h"
#include "cpu/vec_math.h"

namespace kiln::cpu {
namespace {

// One lookup32 picks among 32 coefficients: the tables must have exactly that many intervals.
static_assert(kGeluIntervals == 32, "table_poly looks coefficients up with L::lookup32");

template <class L>
struct VecActivations {
    using V = typename L::V;
    using M = typename L::M;
    using I = typename L::I;
    using Math = VecMath<L>;

    // Where a sits in the tables: the interval i = round(8a) (only its low 5 bits are read, so lanes past the tables
    // read some interval and are blended away) and the exact offset u = a - i/8, |u| <= 1/16.
    struct TableSpot {
        typename L::Index i;
        V u;
    };
    static TableSpot table_spot(V a) {
        const V i = L::round_nearest(L::mul(a, L::k(kGeluPerUnit)));
        return {L::index32(L::to_int(i)), L::fnmadd(i, L::k(1.0f / kGeluPerUnit), a)};
    }

    static V table_poly(const float (&c)[kGeluDegree + 1][kGeluIntervals], TableSpot s) {
        V p = L::lookup32(c[kGeluDegree], s.i);
        for (int n = kGeluDegree - 1; n >= 0; --n) p = L::fma(p, s.u, L::lookup32(c[n], s.i));
        return p;
    }

    // The exp-based pieces for 3.9375 <= a < 15: Phi(-a) = m 2^n and phi(a) = pdf_m 2^n_pdf.
    struct TailParts {
        V m, n, pdf_m, n_pdf;
    };

    static TailParts tail_parts(V ax) {
        const V a = L::min(ax, L::k(15.0f));  // NaN becomes 15 here; its lanes take x through the final arithmetic
        const V h = L::mul(a, a);
        const V l = L::fmsub(a, a, h);  // a^2 = h + l exactly
        const V hh = L::mul(h, L::k(0.5f)), ll = L::mul(l, L::k(0.5f));
        // -a^2/2 = n1 ln2 + r1 - ll: the big exponent reduced exactly, the low part added to the small remainder.
        const auto e = Math::reduce_ln2(L::sub(L::k(0.0f), hh));
        const V r1 = L::sub(e.r, ll);
        const V z = L::mul(a, L::k(0.70710678118654752f));
        const V t = L::div(L::k(1.0f), L::fma(z, L::k(0.5f), L::k(1.0f)));
        const V u = L::sub(t, L::k(0.4375f));
        V gp = L::k(2.400250468e-01f);
        gp = L::fma(gp, u, L::k(-1.941275500e-01f));
        gp = L::fma(gp, u, L::k(-2.270155974e-01f));
        gp = L::fma(gp, u, L::k(2.299845107e-01f));
        gp = L::fma(gp, u, L::k(2.165762414e-01f));
        gp = L::fma(gp, u, L::k(-2.370566534e-01f));
        gp = L::fma(gp, u, L::k(-3.253469520e-01f));
        gp = L::fma(gp, u, L::k(2.553558356e-01f));
        gp = L::fma(gp, u, L::k(1.317393360e+00f));
        gp = L::fma(gp, u, L::k(-7.550458255e-01f));
        // erfc(z) / t = exp(-z^2 + g) = 2^n1 exp(r1 + g), one more reduction of the small sum r1 + g (|.| < 1.7).
        const auto eg = Math::reduce_ln2(L::add(r1, gp));
        TailParts p;
        p.m = L::mul(Math::exp_poly(eg.r), t);
        p.n = L::add(L::add(e.n, eg.n), L::k(-1.0f));  // erfc / 2
        p.pdf_m = L::mul(Math::exp_poly(r1), L::k(0.39894228040143268f));
        p.n_pdf = e.n;
        return p;
    }

    // gelu(x) from the tables, for lanes with |x| < kGeluTableEnd.
    static V gelu_table(V x, M neg, TableSpot s) {
        const V x_lower = L::mul(x, table_poly(kGeluLowerTail, s));  // x Phi(-|x|)
        return L::blend(neg, L::sub(x, x_lower), x_lower);
    }

    static V gelu_fwd(V x) {
        const V ax = L::vabs(x);
        const M neg = L::negative(x), table = L::lt(ax, L::k(kGeluTableEnd));
        const V near = gelu_table(x, neg, table_spot(ax));
        if (L::all(table)) return near;
        const TailParts g = tail_parts(ax);
        const V tail_neg = L::scalef(L::mul(x, g.m), g.n);                        // x Phi(x), x <= -kGeluTableEnd
        const V tail_pos = L::mul(x, L::sub(L::k(1.0f), L::scalef(g.m, g.n)));  // x (1 - Phi(-x)), x >= end, NaN
        V y = L::blend(neg, tail_pos, tail_neg);
        const M big = L::ge(ax, L::k(15.0f));
        y = L::blend(big, y, L::blend(neg, x, L::mul(x, L::k(0.0f))));  // x Phi(x), Phi = 1 or 0
        return L::blend(table, y, near);
    }

    // gelu'(x) = Phi(x) + x phi(x) from the tables: Phi(x) is Phi(-|x|) for x < 0 and 1 - Phi(-|x|) otherwise.
    static V gelu_deriv_table(V x, M neg, TableSpot s) {
        const V lower = table_poly(kGeluLowerTail, s);
        const V cdf = L::blend(neg, L::sub(L::k(1.0f), lower), lower);
        return L::fma(x, table_poly(kGeluDensity, s), cdf);
    }

    static V gelu_deriv(V x) {
        const V ax = L::vabs(x);
        const M neg = L::negative(x), table = L::lt(ax, L::k(kGeluTableEnd));
        const V near = gelu_deriv_table(x, neg, table_spot(ax));
        if (L::all(table)) return near;
        const TailParts g = tail_parts(ax);
        // x <= -kGeluTableEnd: both terms share exp(-x^2/2): (m + x pdf_m') 2^n, the pdf mantissa moved to the power n.
        const V pdf_in_n = L::scalef(g.pdf_m, L::sub(g.n_pdf, g.n));  // pdf mantissa relative to 2^n (power -1..1)
        const V tail_neg = L::scalef(L::fma(x, pdf_in_n, g.m), g.n);
        const V x_pdf = L::mul(x, L::scalef(g.pdf_m, g.n_pdf));
        const V tail_pos = L::add(L::sub(L::k(1.0f), L::scalef(g.m, g.n)), x_pdf);
        V d = L::blend(neg, tail_pos, tail_neg);
        const M big = L::ge(ax, L::k(15.0f));
        d = L::blend(big, d, L::add(L::blend(neg, L::k(1.0f), L::k(0.0f)), L::mul(x, L::k(0.0f))));
        return L::blend(table, d, near);
    }

    // x + bias where there is one; no bias: no + 0, which would turn -0 into +0.
    static V load_input(const float* x, const float* bias, int64_t j, const typename Math::Chunk& c) {
        const V v = c.load(x + j);
        return bias ? L::add(v, c.load(bias + j)) : v;
    }

    // The spans of cpu/elementwise_simd.h, for this ISA.
    static void gelu(const float* x, const float* bias, float* y, int64_t n) {
        Math::for_each_register(n, [&](int64_t j, const auto& c) {
            c.store(y + j, gelu_fwd(load_input(x, bias, j, c)));
        });
    }

    static void gelu_backward(const float* x, const float* bias, const float* dy, float* out, double* acc, int64_t n) {
        Math::for_each_register(n, [&](int64_t j, const auto& c) {
            const V g = L::mul(c.load(dy + j), gelu_deriv(load_input(x, bias, j, c)));
            if (out) c.store(out + j, g);
            if (acc) c.accumulate(acc + j, g);
        });
    }

    // tanh(x) = -expm1(-2|x|) / (2 + expm1(-2|x|)) with the sign of x: expm1 keeps small |x| accurate, and
    // -2|x| <= 0 never overflows. NaN stays NaN through the arithmetic; |x| large gives 1 exactly.
    static void tanh(const float* x, float* y, int64_t n) {
        Math::for_each_register(n, [&](int64_t j, const auto& c) {
            const V v = c.load(x + j);
            const V em1 = Math::expm1_nonpos(L::mul(L::k(-2.0f), L::vabs(v)));
            const V t = L::div(L::sub(L::k(0.0f), em1), L::add(L::k(2.0f), em1));
            c.store(y + j, L::with_sign_of(t, v));
        });
    }

    // sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) below, e = exp(-|x|): the scalar sigmoid_f's one division.
    static void sigmoid(const float* x, float* y, int64_t n) {
        Math::for_each_register(n, [&](int64_t j, const auto& c) {
            const V v = c.load(x + j);
            const V e = Math::exp_nonpos(L::sub(L::k(0.0f), L::vabs(v)));
            c.store(y + j, L::div(L::blend(L::ge(v, L::k(0.0f)), e, L::k(1.0f)), L::add(L::k(1.0f), e)));
        });
    }
};

}  // namespace
}  // namespace kiln::cpu

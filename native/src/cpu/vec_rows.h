// Vector spans of the softmax and loss families, written once over a lane set L (cpu/vec_math.h) and instantiated
// per ISA: sums and dot products in double (cpu/reduce_rows.h's row_sum and row_dot), exp(x - m) for a softmax row and
// its double sum, one row of the cross-entropy gradient (reduce_avx512.cpp, reduce_avx2.cpp), and BCE with logits'
// terms and gradient (loss_avx512.cpp, loss_avx2.cpp). Each lane runs the scalar formula's operations in the scalar
// order (kernels/common/softmax_math.h) with the vector exp and log1p of cpu/vec_math.h in place of glibc's expf and
// log1pf (4 ns per element in the scalar loops), within 2 ulp of them. The double sums are in a fixed order for a
// given span, which differs between ISAs (16 lanes or 8) in the last bits.
#pragma once

#include <cmath>
#include <cstdint>

#include "cpu/vec_math.h"

namespace kiln::cpu {
namespace {

template <class L>
struct VecRows {
    using V = typename L::V;
    using M = typename L::M;
    using Math = VecMath<L>;
    static constexpr int W = L::W;

    // sum of x[i] (of x[i] w[i]) for i < n in double, four chains of W; masked loads give 0 past the end, which adds
    // nothing, so the tail needs no mask on the accumulators.
    static double sum(const float* x, int64_t n) {
        typename L::FourChains c;
        int64_t j = 0;
        for (; j + 4 * W <= n; j += 4 * W)
            for (int u = 0; u < 4; ++u) c.add(u, L::loadu(x + j + W * u));
        for (int u = 0; j < n; j += W, ++u) c.add(u, L::load(x + j, L::tail(n - j)));
        return c.total();
    }

    static double dot(const float* x, const float* w, int64_t n) {
        typename L::FourChains c;
        int64_t j = 0;
        for (; j + 4 * W <= n; j += 4 * W)
            for (int u = 0; u < 4; ++u) c.add(u, L::loadu(x + j + W * u), L::loadu(w + j + W * u));
        for (int u = 0; j < n; j += W, ++u) {
            const M m = L::tail(n - j);
            c.add(u, L::load(x + j, m), L::load(w + j, m));
        }
        return c.total();
    }

    // sum over i < n of exp(x[i] - m) in double; x[i] - m <= 0 (m is the row max).
    static double sum_exp_shifted(const float* x, int64_t n, float m) {
        typename L::DoubleSum s;
        const V mv = L::k(m);
        Math::for_each_register(n, [&](int64_t j, const auto& c) {
            s.add(Math::exp_nonpos(L::sub(c.load(x + j), mv)), c.m);
        });
        return s.total();
    }

    // y[i] = exp(x[i] - m) for i < n; y may alias x.
    static void exp_shifted(const float* x, int64_t n, float m, float* y) {
        const V mv = L::k(m);
        Math::for_each_register(n, [&](int64_t j, const auto& c) {
            c.store(y + j, Math::exp_nonpos(L::sub(c.load(x + j), mv)));
        });
    }

    // d[i] = (exp(x[i] - lse) - (i == label)) * scale for i < n: one row of the cross-entropy gradient.
    static void cross_entropy_grad_row(const float* x, int64_t n, float lse, int64_t label, float scale, float* d) {
        const V lv = L::k(lse), sv = L::k(scale);
        Math::for_each_register(n, [&](int64_t j, const auto& c) {
            const V e = Math::exp_nonpos(L::sub(c.load(x + j), lv));
            // (exp(x - lse) + (is_label ? -1 : 0)) * scale: the label's lane subtracts 1, the others add 0.
            const V shifted = L::add(e, L::blend(L::lane_is(label - j), L::k(0.0f), L::k(-1.0f)));
            c.store(d + j, L::mul(shifted, sv));
        });
    }

    // The sum in double of BCE with logits' terms max(x, 0) - x t + log1p(exp(-|x|)), with the term's limit at
    // x = +-inf.
    static double bce_logits_sum(const float* x, const float* t, int64_t n) {
        typename L::DoubleSum sum;
        Math::for_each_register(n, [&](int64_t j, const auto& c) {
            const V xv = c.load(x + j), tv = c.load(t + j);
            const V relu = L::max(xv, L::k(0.0f));  // a NaN x gives 0 here, and NaN through x t
            const V soft = Math::log1p_unit(Math::exp_nonpos(L::sub(L::k(0.0f), L::vabs(xv))));
            V term = L::add(L::sub(relu, L::mul(xv, tv)), soft);
            const M infinite = L::eq(L::vabs(xv), L::k(INFINITY));
            if (L::any(infinite)) {  // the scalar term's limit w |x|, w = 1 - t at +inf and t at -inf, 0 where w is 0
                const V w = L::blend(L::gt(xv, L::k(0.0f)), tv, L::sub(L::k(1.0f), tv));
                const V limit = L::blend(L::eq(w, L::k(0.0f)), L::mul(w, L::k(INFINITY)), L::k(0.0f));
                term = L::blend(infinite, term, limit);
            }
            // Masked-off lanes load zeros: their term is log1p(1) = ln2, so they are left out of the sum.
            sum.add(term, c.m);
        });
        return sum.total();
    }

    // dx[i] = (sigmoid(x[i]) - t[i]) * scale, sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) below, e = exp(-|x|):
    // one division, as the scalar one.
    static void bce_logits_grad(const float* x, const float* t, float scale, float* dx, int64_t n) {
        const V sv = L::k(scale);
        Math::for_each_register(n, [&](int64_t j, const auto& c) {
            const V xv = c.load(x + j), tv = c.load(t + j);
            const V e = Math::exp_nonpos(L::sub(L::k(0.0f), L::vabs(xv)));
            const V sig = L::div(L::blend(L::ge(xv, L::k(0.0f)), e, L::k(1.0f)), L::add(L::k(1.0f), e));
            c.store(dx + j, L::mul(L::sub(sig, tv), sv));
        });
    }
};

}  // namespace
}  // namespace kiln::cpu

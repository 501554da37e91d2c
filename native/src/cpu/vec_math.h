// Vector exp, expm1 and log1p written once over a lane set L, so that the AVX-512 and the AVX2 spans run the same
// operations in the same order and give the same bits (cpu/avx512_math.h and cpu/avx2_math.h define L). exp is a
// Cody-Waite reduction plus a Taylor polynomial, the power of two applied by L::scalef so that results near the
// underflow round once; log1p covers [0, 1]. Include it only from files built for L's ISA.
//
// What L provides (V: a register of L::W floats; M: a per-lane condition, from a compare, tail() or negative()):
//   k(c) every lane c; add sub mul div min max fma(a, b, c) = ab + c, fnmadd(a, b, c) = c - ab, fmsub = ab - c, vabs;
//   min/max return the second operand where either is NaN, as the x86 instructions do;
//   round_nearest(v); scalef(m, n) = m 2^n for integer-valued n with |n| <= 160 (n below: a zero result either way);
//   lt gt ge eq (ordered compares), is_nan(v), negative(v) (sign bit set, -0 included), all(M), any(M),
//   lane_is(i) (lane i alone on; none where i is outside [0, W));
//   blend(m, a, b) = m ? b : a; with_sign_of(a, s) = a with s's sign bit or-ed in;
//   I and to_int(v) (lane indices), Index and index32(i) (an index prepared for several lookups), lookup32(c, x) =
//   c[i & 31] for 32 floats aligned to 64 bytes;
//   tail(left) = lanes [0, min(left, W)); load(p, m) (zero where m is off, nothing read there); store(p, m, v);
//   store_first(p, n, v) = lanes [0, n) of v, n <= W (AVX2: plain stores of 4, 2 and 1 lanes rather than a mask),
//   store_first2(p, n, lo, hi) the same for the 2 W floats lo, hi;
//   int32 lanes for the pool's indices: iota(step), ik, iadd, ieq, iblend, iload(p, m), iloadu, istore_first;
//   deinterleave(p, n, even, odd) and interleave(a, b, lo, hi) for a row's even and odd columns;
//   accumulate(acc, m, v): acc[k] += (double)v[k] where m is on; loadu(p), storeu(p, v), accumulate(acc, v): all lanes;
//   DoubleSum (add(v, m), total(): a span's sum in double, fixed order) and FourChains (add(u, a), add(u, a, b),
//   total(): four independent double chains for sums and dot products).
#pragma once

#include <cstdint>

namespace kiln::cpu {
namespace {

template <class L>
struct VecMath {
    using V = typename L::V;
    using M = typename L::M;

    // One register of a span: a full one loads and stores plainly, the span's last partial one through its mask (a
    // masked 256-bit store costs about ten plain ones on AMD's cores).
    struct Chunk {
        M m;
        bool full;
        V load(const float* p) const { return full ? L::loadu(p) : L::load(p, m); }
        void store(float* p, V v) const { full ? L::storeu(p, v) : L::store(p, m, v); }
        void accumulate(double* acc, V v) const { full ? L::accumulate(acc, v) : L::accumulate(acc, m, v); }
    };
    // f(j, chunk) for the registers of a span of n floats, j the first float of each.
    template <class F>
    static void for_each_register(int64_t n, F&& f) {
        int64_t j = 0;
        for (; j + L::W <= n; j += L::W) f(j, Chunk{L::tail(L::W), true});
        if (j < n) f(j, Chunk{L::tail(n - j), false});
    }

    // exp(r) = 1 + r p(r) for |r| <= 0.35 (a little past ln2 / 2): p is the Taylor series of (exp(r) - 1) / r to
    // degree 6, truncation 5e-9 relative. r p(r) is also expm1(r), with no cancellation near 0.
    static V exp_taylor_p(V r) {
        V p = L::k(1.0f / 5040.0f);
        p = L::fma(p, r, L::k(1.0f / 720.0f));
        p = L::fma(p, r, L::k(1.0f / 120.0f));
        p = L::fma(p, r, L::k(1.0f / 24.0f));
        p = L::fma(p, r, L::k(1.0f / 6.0f));
        p = L::fma(p, r, L::k(0.5f));
        return L::fma(p, r, L::k(1.0f));
    }

    // exp(r) for |r| <= 0.35.
    static V exp_poly(V r) { return L::fma(exp_taylor_p(r), r, L::k(1.0f)); }

    // v = n ln2 + r with n integer-valued and |r| <= ln2 / 2, for |v| <= 200 (callers keep it there): Cody-Waite with
    // ln2 in two parts, n * 0.693359375 being exact for |n| < 2^15.
    struct Reduced {
        V r, n;
    };
    static Reduced reduce_ln2(V v) {
        const V n = L::round_nearest(L::mul(v, L::k(1.44269504088896341f)));
        V r = L::fnmadd(n, L::k(0.693359375f), v);
        r = L::fnmadd(n, L::k(-2.12194440e-4f), r);
        return {r, n};
    }

    // exp(v) for v <= 0 (NaN stays NaN): below -200 it is 0 in float anyway, so v is clamped there for the reduction.
    static V exp_nonpos(V v) {
        const Reduced e = reduce_ln2(L::max(v, L::k(-200.0f)));  // max keeps the second operand for NaN: see below
        const V y = L::scalef(exp_poly(e.r), e.n);
        return L::blend(L::is_nan(v), y, v);  // NaN in, NaN out
    }

    // expm1(v) for v <= 0 (NaN stays NaN): the Taylor polynomial's own v p(v) near 0, where exp(v) - 1 would cancel,
    // else exp(v) - 1, which loses nothing once exp(v) <= 0.71.
    static V expm1_nonpos(V v) {
        const V small = L::mul(exp_taylor_p(v), v);
        const V large = L::sub(exp_nonpos(v), L::k(1.0f));
        return L::blend(L::ge(v, L::k(-0.34f)), large, small);
    }

    // log1p(u) for u in [0, 1] (NaN stays NaN). w = 1 + u rounds, so log(w) is scaled by u / (w - 1), which is exact
    // (Goldberg's correction); log(w) = j ln2 + log(m) with m = w or w / 2 in [0.707, 1.414], and log(m) =
    // 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172, by its odd series to s^11 (truncation 5e-11 relative).
    static V log1p_unit(V u) {
        const V w = L::add(L::k(1.0f), u);
        const M high = L::gt(w, L::k(1.41421356f));
        const V m = L::blend(high, w, L::mul(w, L::k(0.5f)));
        const V s = L::div(L::sub(m, L::k(1.0f)), L::add(m, L::k(1.0f)));
        const V z = L::mul(s, s);
        V p = L::k(2.0f / 11.0f);
        p = L::fma(p, z, L::k(2.0f / 9.0f));
        p = L::fma(p, z, L::k(2.0f / 7.0f));
        p = L::fma(p, z, L::k(2.0f / 5.0f));
        p = L::fma(p, z, L::k(2.0f / 3.0f));
        p = L::fma(p, z, L::k(2.0f));
        V log_w = L::mul(p, s);
        // + ln2 in two parts where w was halved
        log_w = L::blend(high, log_w, L::add(L::add(log_w, L::k(-2.12194440e-4f)), L::k(0.693359375f)));
        const V f = L::sub(w, L::k(1.0f));  // exact: w is in [1, 2]
        const M rounded_to_one = L::eq(f, L::k(0.0f));
        const V corrected = L::mul(log_w, L::div(u, f));
        return L::blend(rounded_to_one, corrected, u);  // u below half an ulp of 1: log1p(u) = u
    }
};

}  // namespace
}  // namespace kiln::cpu

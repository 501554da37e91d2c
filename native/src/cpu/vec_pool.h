// 2x2 stride-2 unpadded max pooling (every CNN's pool), forward and backward, one output row at a time, written once
// over a lane set L (cpu/vec_math.h) and instantiated in pool_avx512.cpp (16 outputs a step) and pool_avx2.cpp (8):
// the even and odd input columns split out of a row by L::deinterleave, then the same comparisons in the same window
// order as the generic loops in pool.cpp (pool_max_beats), so the bits and indices are identical on every path.
#pragma once

#include <cstdint>

#include "cpu/vec_math.h"

namespace kiln::cpu {
namespace {

template <class L>
struct VecPool2x2 {
    using V = typename L::V;
    using M = typename L::M;
    using I = typename L::I;
    static constexpr int W = L::W;

    // pool_max_beats(v, best) lane by lane: v is larger, or NaN while best is not.
    static M beats(V v, V best) { return L::both(L::ordered(best), L::either(L::gt(v, best), L::is_nan(v))); }

    // f(o, n) for the registers of a row of q outputs, o the first output of each and n <= W its count. Where the row
    // holds a whole register, the last one starts at q - W and overlaps the one before: those outputs are computed
    // again, to the same bits, and every register loads and stores whole. Only rows shorter than W take masks (a
    // masked 256-bit store costs about ten plain ones on AMD's cores, and the CNN's 26-wide rows have q = 13).
    template <class F>
    static void for_each_register(int64_t q, F&& f) {
        if (q < W) {
            if (q > 0) f(int64_t{0}, q);
            return;
        }
        for (int64_t o = 0; o < q; o += W) f(o + W <= q ? o : q - W, int64_t{W});
    }

    // One output row: x0 and x1 are input rows 2 oh and 2 oh + 1 (base0 and base1 their offsets in the plane, for
    // the indices), y and index the row's q outputs.
    static void max_row(const float* x0, const float* x1, int64_t q, int32_t base0, int32_t base1, float* y,
                        int32_t* index) {
        for_each_register(q, [&](int64_t o, int64_t n) {
            V a, b, c, d;  // window order: (r0, 2j), (r0, 2j + 1), (r1, 2j), (r1, 2j + 1)
            L::deinterleave(x0 + 2 * o, n, a, b);
            L::deinterleave(x1 + 2 * o, n, c, d);
            const I col = L::iadd(L::iota(2), L::ik((int32_t)(2 * o)));
            const I i0 = L::iadd(col, L::ik(base0)), i1 = L::iadd(col, L::ik(base1));
            V best = a;
            I arg = i0;
            M t = beats(b, best);
            best = L::blend(t, best, b);
            arg = L::iblend(t, arg, L::iadd(i0, L::ik(1)));
            t = beats(c, best);
            best = L::blend(t, best, c);
            arg = L::iblend(t, arg, i1);
            t = beats(d, best);
            best = L::blend(t, best, d);
            arg = L::iblend(t, arg, L::iadd(i1, L::ik(1)));
            L::store_first(y + o, n, best);
            L::istore_first(index + o, n, arg);
        });
    }

    // Its backward for one output row: assigns input columns [0, 2 q) of dx rows dx0 and dx1.
    static void max_backward_row(const float* dy, const int32_t* index, int64_t q, int32_t base0, int32_t base1,
                                 float* dx0, float* dx1) {
        const V zero = L::k(0.0f);
        for_each_register(q, [&](int64_t o, int64_t n) {
            const M in = L::tail(n);
            const V g = n == W ? L::loadu(dy + o) : L::load(dy + o, in);
            const I idx = n == W ? L::iloadu(index + o) : L::iload(index + o, in);
            const I col = L::iadd(L::iota(2), L::ik((int32_t)(2 * o)));
            const I i0 = L::iadd(col, L::ik(base0)), i1 = L::iadd(col, L::ik(base1));
            // Each input lies in exactly one window: it gets 0 + dy where the window's index names it, else 0 (the
            // generic loop's zero fill plus one add, including -0 + 0 = +0). Any other index, corrupt ones included,
            // names no element of the window and adds nothing.
            const auto part = [&](I at) { return L::add(zero, L::blend(L::ieq(idx, at), zero, g)); };
            const V a = part(i0), b = part(L::iadd(i0, L::ik(1))), c = part(i1), d = part(L::iadd(i1, L::ik(1)));
            V lo, hi;  // input columns 2 o .. 2 o + 2 n - 1
            L::interleave(a, b, lo, hi);
            L::store_first2(dx0 + 2 * o, 2 * n, lo, hi);
            L::interleave(c, d, lo, hi);
            L::store_first2(dx1 + 2 * o, 2 * n, lo, hi);
        });
    }
};

}  // namespace
}  // namespace kiln::cpu

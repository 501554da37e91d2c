// The harness's call families over the tensor ops: gemm (with fuzzed leading dimensions and batch strides), binary
// ops with broadcasting, one-tensor pointwise ops, and the row-wise reductions, softmax and cross entropy.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "enum_shim.h"
#include "fuzz_calls.h"
#include "fuzz_harness.h"

namespace kiln::fuzz {

void call_gemm(State& s) {
    Call c(s, "kiln_gemm_f32");
    kiln_context* ctx = pick_context(s, c);
    kiln_gemm_desc d{};
    d.trans_a = s.in.one_in(2) ? 0 : (s.in.one_in(4) ? s.in.i32() : 1);
    d.trans_b = s.in.one_in(2) ? 0 : (s.in.one_in(4) ? s.in.i32() : 1);
    d.m = s.in.size(), d.n = s.in.size(), d.k = s.in.size();
    d.batch = s.in.one_in(2) ? 1 : s.in.size();
    // Leading dimensions and strides: usually the packed ones (plus a little), sometimes anything.
    const int64_t ac = d.trans_a ? d.m : d.k, bc = d.trans_b ? d.k : d.n;
    const int64_t ar = d.trans_a ? d.k : d.m, br = d.trans_b ? d.n : d.k;
    auto ld = [&](int64_t cols) { return s.in.one_in(5) ? s.in.size() : sat_add(std::max<int64_t>(cols, 1), s.in.u8() % 3); };
    d.lda = ld(ac), d.ldb = ld(bc), d.ldc = ld(d.n);
    auto stride = [&](int64_t rows, int64_t ldv) {
        const uint8_t k = s.in.u8();
        return k < 40 ? 0 : k < 200 ? sat_add(sat_mul(rows, ldv), k % 3) : s.in.size();
    };
    d.stride_a = stride(ar, d.lda), d.stride_b = stride(br, d.ldb), d.stride_c = stride(d.m, d.ldc);
    d.alpha = s.in.real(), d.beta = s.in.one_in(3) ? 0.0f : s.in.real();
    const kiln_gemm_desc* dp = c.given("desc", Use::handle, s.in.one_in(40) ? nullptr : &d);
    // The contract: m, n, k >= 0, batch >= 1, ld >= max(1, cols), batch strides >= 0 when batch > 1.
    if (d.m < 0 || d.n < 0 || d.k < 0 || d.batch < 1) c.forbid();
    if (d.lda < std::max<int64_t>(ac, 1) || d.ldb < std::max<int64_t>(bc, 1) || d.ldc < std::max<int64_t>(d.n, 1))
        c.forbid();
    if (d.batch > 1 && (d.stride_a < 0 || d.stride_b < 0)) c.forbid();  // even where the operand is empty
    // Refused by core though kiln.h does not say so: C matrices of one batch that overlap one another.
    const int64_t c_one = d.m > 0 && d.n > 0 ? sat_add(sat_mul(d.m - 1, d.ldc), d.n) : 0;
    if (d.batch > 1 && c_one > 0 && d.stride_c < c_one) c.forbid();
    // Extent of one stored operand over the batch: ((batch - 1) * stride) + (rows - 1) * ld + cols.
    auto span = [&](int64_t rows, int64_t cols, int64_t ldv, int64_t str) -> int64_t {
        if (rows <= 0 || cols <= 0 || d.batch <= 0) return 0;
        const int64_t one = sat_add(sat_mul(rows - 1, ldv < 0 ? kHuge : ldv), cols);
        if (d.batch == 1) return one;
        if (str < 0) {
            c.forbid();
            return 1;
        }
        return sat_add(sat_mul(d.batch - 1, str), one);
    };
    const int64_t na = span(ar, ac, d.lda, d.stride_a), nb = span(br, bc, d.ldb, d.stride_b);
    const int64_t nc = span(d.m, d.n, d.ldc, d.stride_c);
    c.need(na, 4), c.need(nb, 4), c.need(nc, 4);
    c.work(product({d.m, d.n, d.k, d.batch}));
    c.work(product({d.m, d.n, d.batch}));
    if (!c.runnable()) return;
    const float* a = c.in<float>("a", na);
    const float* b = c.in<float>("b", nb);
    c.call(kiln_gemm_f32, ctx, dp, a, b, c.out<float>("c", nc));
}

// binary ops: operands are full (stride inner) or broadcast (stride 0).
void call_binary(State& s) {
    const bool backward = s.in.one_in(2);
    Call c(s, backward ? "kiln_binary_backward_f32" : "kiln_binary_f32");
    kiln_context* ctx = pick_context(s, c);
    int32_t op = s.in.one_in(10) ? s.in.i32() : s.in.u8() % 4;
    if (op < 0 || op > 3) c.forbid();
    const int64_t outer = s.in.size(), inner = s.in.size();
    auto stride = [&] {
        const uint8_t k = s.in.u8();
        return k < 80 ? 0 : k < 240 ? inner : s.in.size();
    };
    const int64_t sa = stride(), sb = stride();
    if ((sa != 0 && sa != inner) || (sb != 0 && sb != inner)) c.forbid();
    const int64_t n = c.extent({outer, inner});
    const int64_t na = sa == 0 ? std::max<int64_t>(inner, 0) : n, nb = sb == 0 ? std::max<int64_t>(inner, 0) : n;
    c.need(na, 4), c.need(nb, 4), c.need(n, 4);
    if (backward) c.need(n, 4), c.need(na, 4), c.need(nb, 4);
    c.work({n});
    if (!c.runnable()) return;
    if (!backward) {
        const float* a = c.in<float>("a", na);
        const float* b = c.in<float>("b", nb);
        c.call(fuzz_binary, ctx, op, a, sa, b, sb, c.out<float>("y", n), outer, inner);
        return;
    }
    // "An input the call does not read may be NULL": the backward reads a for mul's db and div's db, b for mul's da
    // and for div's da or db (with neither wanted, or no elements of dy, it reads nothing: a broadcast gradient is
    // then (inner) zeros), so each is declared once da and db are chosen.
    const float* a = c.ptr<float>(na);
    const float* b = c.ptr<float>(nb);
    const float* dy = c.in<float>("dy", n);
    float* da = c.opt_out<float>("da", na);
    float* db = c.opt_out<float>("db", nb);
    const bool reads_a = n > 0 && (op == KILN_MUL || op == KILN_DIV) && db;
    const bool reads_b = n > 0 && ((op == KILN_MUL && da) || (op == KILN_DIV && (da || db)));
    c.given("a", reads_a ? Use::in : Use::opt_in, a, na);
    c.given("b", reads_b ? Use::in : Use::opt_in, b, nb);
    c.call(fuzz_binary_backward, ctx, op, a, sa, b, sb, dy, da, db, outer, inner);
}

// One-tensor ops of n elements: activations, scale, axpy, dropout, sum of squares, the pointwise losses, optimizers.
void call_pointwise(State& s) {
    static const char* const kNames[] = {
        "kiln_activation_f32", "kiln_activation_backward_f32", "kiln_scale_f32", "kiln_axpy_f32",
        "kiln_dropout_f32", "kiln_dropout_backward_f32", "kiln_sum_squares_f32", "kiln_bce_with_logits_f32",
        "kiln_bce_with_logits_backward_f32", "kiln_mse_f32", "kiln_mse_backward_f32", "kiln_sgd_step_f32",
        "kiln_adam_step_f32"};
    const int which = s.in.u8() % 13;
    Call c(s, kNames[which]);
    kiln_context* ctx = pick_context(s, c);
    const int64_t n = s.in.size();
    const int64_t e = c.extent({n});
    for (int i = 0; i < 5; ++i) c.need(e, 4);
    c.work({e});
    const float alpha = s.in.real();
    int32_t act = s.in.one_in(10) ? s.in.i32() : s.in.u8() % 5;
    if ((which == 0 || which == 1) && (act < 0 || act > 4)) c.forbid();
    const float p = s.in.one_in(4) ? s.in.real() : (float)(s.in.u8() % 10) / 10.0f;
    if ((which == 4 || which == 5) && !(p >= 0.0f && p < 1.0f)) c.forbid();
    const uint64_t seed = s.in.u64();
    if (!c.runnable()) return;
    // The one operand every entry here reads. The activation's backward reads y for tanh and sigmoid and x for the
    // others (kiln.h), and the one it does not read may be NULL.
    const bool reads_y = which == 1 && (act == KILN_TANH || act == KILN_SIGMOID);
    const char* first = which == 5 ? "dy" : which >= 11 ? "grad" : "x";
    const float* x = reads_y ? c.opt_in<float>(first, e) : c.in<float>(first, e);
    // y = x in place where kiln.h allows it (the oracles hold such a call to running).
    auto in_place_or_new = [&] {
        return s.in.one_in(3) ? c.given("y", Use::out, const_cast<float*>(x), e) : c.out<float>("y", e);
    };
    switch (which) {
        case 0: c.call(fuzz_activation, ctx, act, x, in_place_or_new(), n, alpha); break;
        case 1: {
            const float* y = reads_y ? c.in<float>("y", e) : c.opt_in<float>("y", e);
            const float* dy = c.in<float>("dy", e);
            c.call(fuzz_activation_backward, ctx, act, x, y, dy, c.opt_out<float>("dx", e), n, alpha);
            break;
        }
        case 2: c.call(kiln_scale_f32, ctx, x, in_place_or_new(), n, alpha); break;
        case 3: c.call(kiln_axpy_f32, ctx, n, alpha, x, c.out<float>("y", e)); break;
        case 4: c.call(kiln_dropout_f32, ctx, x, c.out<float>("y", e), n, p, seed, seed >> 7); break;
        case 5: c.call(kiln_dropout_backward_f32, ctx, x, c.opt_out<float>("dx", e), n, p, seed, seed >> 7); break;
        case 6: c.call(kiln_sum_squares_f32, ctx, x, n, c.out<float>("out", 1)); break;
        case 7:
        case 9: {
            const float* t = c.in<float>("t", e);
            c.call(which == 7 ? kiln_bce_with_logits_f32 : kiln_mse_f32, ctx, x, t, c.out<float>("loss", 1), n);
            break;
        }
        case 8:
        case 10: {
            const float* t = c.in<float>("t", e);
            const float* dloss = c.in<float>("dloss", 1);
            c.call(which == 8 ? kiln_bce_with_logits_backward_f32 : kiln_mse_backward_f32, ctx, x, t, dloss,
                   c.opt_out<float>("dx", e), n);
            break;
        }
        case 11: {
            float* param = c.out<float>("param", e);
            float* vel = c.ptr<float>(e);
            const float momentum = s.in.real(), weight_decay = s.in.real();
            const int32_t nesterov = s.in.i32();
            // "velocity may be NULL when momentum == 0"
            c.given("velocity", momentum == 0.0f ? Use::opt_out : Use::out, vel, e);
            // Refused by core though kiln.h does not say so: a non-finite lr or weight decay, a momentum below 0.
            if (!std::isfinite(alpha) || !std::isfinite(weight_decay) || !(momentum >= 0.0f && std::isfinite(momentum)))
                c.forbid();
            c.call(kiln_sgd_step_f32, ctx, param, x, vel, n, alpha, momentum, weight_decay, nesterov);
            break;
        }
        case 12: {
            float* param = c.out<float>("param", e);
            float* m = c.out<float>("m", e);
            float* v = c.out<float>("v", e);
            const float beta1 = s.in.real(), beta2 = s.in.real(), eps = s.in.real(), weight_decay = s.in.real();
            const int32_t decoupled = s.in.i32();
            const float correction1 = s.in.real(), correction2 = s.in.real();
            if (!adam_hyperparameters_valid(alpha, beta1, beta2, eps, weight_decay) ||
                !(correction1 > 0.0f && correction1 <= 1.0f) || !(correction2 > 0.0f && correction2 <= 1.0f))
                c.forbid();
            c.call(kiln_adam_step_f32, ctx, param, x, m, v, n, alpha, beta1, beta2, eps, weight_decay, decoupled,
                   correction1, correction2);
            break;
        }
    }
}

// Reductions, softmax and cross entropy over (rows, cols) or (outer, len, inner).
void call_rows(State& s) {
    static const char* const kNames[] = {"kiln_reduce_sum_f32", "kiln_reduce_sum_backward_f32",
                                         "kiln_max_lastdim_f32", "kiln_max_lastdim_backward_f32",
                                         "kiln_softmax_f32", "kiln_softmax_backward_f32",
                                         "kiln_cross_entropy_f32", "kiln_cross_entropy_backward_f32"};
    const int which = s.in.u8() % 8;
    Call c(s, kNames[which]);
    kiln_context* ctx = pick_context(s, c);
    if (which < 2) {
        const int64_t outer = s.in.size(), len = s.in.size(), inner = s.in.size();
        const float scale = s.in.real();
        const int64_t nx = c.extent({outer, len, inner}), ny = c.extent({outer, inner});
        c.need(nx, 4), c.need(ny, 4);
        c.work({nx});
        if (!c.runnable()) return;
        if (which == 0) {
            const float* x = c.in<float>("x", nx);
            c.call(kiln_reduce_sum_f32, ctx, x, c.out<float>("y", ny), outer, len, inner, scale);
        } else {
            const float* dy = c.in<float>("dy", ny);
            c.call(kiln_reduce_sum_backward_f32, ctx, dy, c.opt_out<float>("dx", nx), outer, len, inner, scale);
        }
        return;
    }
    const int64_t rows = s.in.size(), cols = s.in.size();
    const int64_t n = c.extent({rows, cols}), nr = c.extent({rows});
    // Every row needs a column (max over an empty row has no answer; core refuses an empty softmax or cross-entropy
    // row too, though kiln.h does not say so), and max's int32 index counts at most INT32_MAX columns.
    if (cols < 1 || ((which == 2 || which == 3) && cols > INT32_MAX)) c.forbid();
    c.need(n, 4), c.need(n, 4), c.need(n, 4), c.need(nr, 4), c.need(nr, 4), c.need(nr, 4);
    c.work({n});
    const int32_t log = s.in.one_in(2) ? 0 : s.in.i32();
    if (!c.runnable()) return;
    const int label_range = cols > 0 && cols < INT32_MAX && s.in.one_in(2) ? (int)cols : 0;
    switch (which) {
        case 2: {
            const float* x = c.in<float>("x", n);
            float* y = c.out<float>("y", nr);
            c.call(kiln_max_lastdim_f32, ctx, x, y, c.out<int32_t>("index", nr, label_range), rows, cols);
            break;
        }
        case 3: {
            const float* dy = c.in<float>("dy", nr);
            const int32_t* index = c.in<int32_t>("index", nr, label_range);
            c.call(kiln_max_lastdim_backward_f32, ctx, dy, index, c.opt_out<float>("dx", n), rows, cols);
            break;
        }
        case 4: {
            const float* x = c.in<float>("x", n);
            float* y = s.in.one_in(3) ? c.given("y", Use::out, const_cast<float*>(x), n) : c.out<float>("y", n);
            c.call(kiln_softmax_f32, ctx, x, y, rows, cols, log);
            break;
        }
        case 5: {
            const float* y = c.in<float>("y", n);
            const float* dy = c.in<float>("dy", n);
            c.call(kiln_softmax_backward_f32, ctx, y, dy, c.opt_out<float>("dx", n), rows, cols, log);
            break;
        }
        case 6: {
            const float* logits = c.in<float>("logits", n);
            const int32_t* labels = c.in<int32_t>("labels", nr, label_range);
            float* loss = c.out<float>("loss", 1);
            c.call(kiln_cross_entropy_f32, ctx, logits, labels, loss, c.out<float>("lse", nr), rows, cols);
            break;
        }
        case 7: {
            const float* logits = c.in<float>("logits", n);
            const int32_t* labels = c.in<int32_t>("labels", nr, label_range);
            const float* lse = c.in<float>("lse", nr);
            const float* dloss = c.in<float>("dloss", 1);
            c.call(kiln_cross_entropy_backward_f32, ctx, logits, labels, lse, dloss, c.opt_out<float>("dlogits", n),
                   rows, cols);
            break;
        }
    }
}

}  // namespace kiln::fuzz

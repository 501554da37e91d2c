// The harness's call families over the layers: 2-D convolution and pooling (with fuzzed window axes), batch norm,
// the LSTM and the VAE's sampling (reparameterization and the Gaussian KL).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "fuzz_calls.h"
#include "fuzz_harness.h"

namespace kiln::fuzz {

namespace {

// One window axis: usually a consistent (in, window, stride, pad, dilation, out), sometimes anything.
struct Axis {
    int64_t in, window, out;
    int32_t stride, pad, dilation;
    bool valid;  // by kiln.h's formula
};
Axis pick_axis(State& s, bool pool) {
    Axis a;
    a.in = s.in.size();
    a.window = s.in.one_in(4) ? s.in.size() : 1 + s.in.u8() % 5;
    a.stride = s.in.one_in(5) ? s.in.i32() : 1 + s.in.u8() % 3;
    a.pad = s.in.one_in(5) ? s.in.i32() : s.in.u8() % 3;
    a.dilation = pool ? 1 : (s.in.one_in(5) ? s.in.i32() : 1 + s.in.u8() % 2);
    a.valid = a.in >= 1 && a.window >= 1 && a.stride >= 1 && a.pad >= 0 && a.dilation >= 1;
    // Refused by core though kiln.h does not say so: sizes past 2^62 and windows past 2^31, and a pooling pad past
    // half the window (a window of padding alone would have no input to pool).
    if (a.in > (int64_t(1) << 62) || a.window > (int64_t(1) << 31) || (pool && 2 * (int64_t)a.pad > a.window))
        a.valid = false;
    int64_t want = -1;
    if (a.valid) {
        const int64_t padded = sat_add(a.in, 2 * (int64_t)a.pad);
        const int64_t taps = sat_add(sat_mul(a.dilation, a.window - 1), 1);
        if (padded == kHuge || taps == kHuge || padded < taps) a.valid = false;
        else want = (padded - taps) / a.stride + 1;
    }
    a.out = s.in.one_in(8) ? s.in.size() : want;
    if (a.out != want) a.valid = false;
    return a;
}

}  // namespace

void call_conv(State& s) {
    static const char* const kNames[] = {"kiln_conv2d_forward_f32", "kiln_conv2d_backward_data_f32",
                                         "kiln_conv2d_backward_weight_f32", "kiln_conv2d_workspace_size"};
    const int which = s.in.u8() % 4;
    Call c(s, kNames[which]);
    kiln_context* ctx = which == 3 ? nullptr : pick_context(s, c);
    kiln_conv2d_desc d{};
    d.n = s.in.size(), d.c = s.in.size(), d.k = s.in.size();
    const Axis ah = pick_axis(s, false), aw = pick_axis(s, false);
    d.h = ah.in, d.r = ah.window, d.stride_h = ah.stride, d.pad_h = ah.pad, d.dilation_h = ah.dilation, d.p = ah.out;
    d.w = aw.in, d.s = aw.window, d.stride_w = aw.stride, d.pad_w = aw.pad, d.dilation_w = aw.dilation, d.q = aw.out;
    if (!ah.valid || !aw.valid || d.n < 0 || d.c < 1 || d.k < 1) c.forbid();
    const kiln_conv2d_desc* dp = c.given("desc", Use::handle, s.in.one_in(40) ? nullptr : &d);
    const int64_t nx = c.extent({d.n, d.c, d.h, d.w}), nw = c.extent({d.k, d.c, d.r, d.s});
    const int64_t ny = c.extent({d.n, d.k, d.p, d.q});
    c.need(nx, 4), c.need(nw, 4), c.need(ny, 4), c.need(d.k, 4);
    c.work(product({d.n, d.k, d.p, d.q, d.c, d.r, d.s}));
    c.work(product({d.n, d.c, d.h, d.w, 4}));
    if (which == 3) {
        uint64_t bytes = 0;
        c.call(kiln_conv2d_workspace_size, dp, c.given("bytes", Use::out, s.in.one_in(10) ? nullptr : &bytes));
        return;
    }
    if (!c.runnable()) return;
    if (which == 0) {
        const float* x = c.in<float>("x", nx);
        const float* w = c.in<float>("w", nw);
        const float* bias = c.opt_in<float>("bias", d.k);
        c.call(kiln_conv2d_forward_f32, ctx, dp, x, w, bias, c.out<float>("y", ny));
    } else if (which == 1) {
        const float* dy = c.in<float>("dy", ny);
        const float* w = c.in<float>("w", nw);
        c.call(kiln_conv2d_backward_data_f32, ctx, dp, dy, w, c.opt_out<float>("dx", nx));
    } else {
        const float* x = c.in<float>("x", nx);
        const float* dy = c.in<float>("dy", ny);
        float* dw = c.opt_out<float>("dw", nw);
        c.call(kiln_conv2d_backward_weight_f32, ctx, dp, x, dy, dw, c.opt_out<float>("dbias", d.k));
    }
}

void call_pool(State& s) {
    static const char* const kNames[] = {"kiln_max_pool2d_f32", "kiln_max_pool2d_backward_f32", "kiln_avg_pool2d_f32",
                                         "kiln_avg_pool2d_backward_f32"};
    const int which = s.in.u8() % 4;
    Call c(s, kNames[which]);
    kiln_context* ctx = pick_context(s, c);
    kiln_pool2d_desc d{};
    d.n = s.in.size(), d.c = s.in.size();
    const Axis ah = pick_axis(s, true), aw = pick_axis(s, true);
    d.h = ah.in, d.kernel_h = (int32_t)std::min<int64_t>(ah.window, INT32_MAX), d.stride_h = ah.stride, d.pad_h = ah.pad;
    d.w = aw.in, d.kernel_w = (int32_t)std::min<int64_t>(aw.window, INT32_MAX), d.stride_w = aw.stride, d.pad_w = aw.pad;
    d.p = ah.out, d.q = aw.out;
    if (!ah.valid || !aw.valid || d.n < 0 || d.c < 0 || ah.window > INT32_MAX || aw.window > INT32_MAX) c.forbid();
    const kiln_pool2d_desc* dp = c.given("desc", Use::handle, s.in.one_in(40) ? nullptr : &d);
    const int64_t nx = c.extent({d.n, d.c, d.h, d.w}), ny = c.extent({d.n, d.c, d.p, d.q});
    c.need(nx, 4), c.need(ny, 4), c.need(ny, 4);
    c.work(product({d.n, d.c, d.p, d.q, d.kernel_h, d.kernel_w}));
    c.work({nx});
    const int32_t include = s.in.one_in(2) ? 0 : s.in.i32();
    if (!c.runnable()) return;
    const int64_t plane = d.h > 0 && d.w > 0 && d.h <= INT32_MAX && d.w <= INT32_MAX / d.h ? d.h * d.w : 0;
    switch (which) {
        case 0: {
            const float* x = c.in<float>("x", nx);
            float* y = c.out<float>("y", ny);
            c.call(kiln_max_pool2d_f32, ctx, dp, x, y, c.out<int32_t>("index", ny, (int)plane));
            break;
        }
        case 1: {
            const float* dy = c.in<float>("dy", ny);
            const int32_t* index = c.in<int32_t>("index", ny, (int)plane);
            c.call(kiln_max_pool2d_backward_f32, ctx, dp, dy, index, c.opt_out<float>("dx", nx));
            break;
        }
        case 2: {
            const float* x = c.in<float>("x", nx);
            c.call(kiln_avg_pool2d_f32, ctx, dp, x, c.out<float>("y", ny), include);
            break;
        }
        default: {
            const float* dy = c.in<float>("dy", ny);
            c.call(kiln_avg_pool2d_backward_f32, ctx, dp, dy, c.opt_out<float>("dx", nx), include);
            break;
        }
    }
}

void call_batchnorm(State& s) {
    static const char* const kNames[] = {"kiln_batch_norm_train_f32", "kiln_batch_norm_eval_f32",
                                         "kiln_batch_norm_backward_f32", "kiln_batch_norm_backward_eval_f32"};
    const int which = s.in.u8() % 4;
    const bool training = which == 0 || which == 2;
    Call c(s, kNames[which]);
    kiln_context* ctx = pick_context(s, c);
    const int64_t n = s.in.size(), ch = s.in.size(), hw = s.in.size();
    const int64_t nx = c.extent({n, ch, hw}), nc = c.extent({ch});
    for (int i = 0; i < 3; ++i) c.need(nx, 4);
    for (int i = 0; i < 6; ++i) c.need(nc, 4);
    c.work({nx});
    const float momentum = s.in.one_in(3) ? s.in.real() : 0.1f;
    const float eps = s.in.one_in(3) ? s.in.real() : 1e-5f;
    if (which != 2 && !(eps > 0.0f && std::isfinite(eps))) c.forbid();
    if (which == 0 && !(momentum >= 0.0f && momentum <= 1.0f)) c.forbid();
    // Refused by core though kiln.h does not say so: batch statistics of a channel with no values.
    if (training && ch > 0 && (n == 0 || hw == 0)) c.forbid();
    if (!c.runnable()) return;
    // gamma and beta "may be NULL (1 and 0)": said of training and of the evaluation backward, and read here as said
    // of batch norm as a whole, since the other two entries are silent on it.
    const float* x = c.in<float>("x", nx);
    const float* gamma = c.opt_in<float>("gamma", nc);
    switch (which) {
        case 0: {
            const float* beta = c.opt_in<float>("beta", nc);
            float* y = c.out<float>("y", nx);
            float* mean = c.out<float>("save_mean", nc);
            float* invstd = c.out<float>("save_invstd", nc);
            float* rm = c.opt_out<float>("running_mean", nc);
            c.call(kiln_batch_norm_train_f32, ctx, n, ch, hw, x, gamma, beta, y, mean, invstd, rm,
                   c.opt_out<float>("running_var", nc), momentum, eps);
            break;
        }
        case 1: {
            const float* beta = c.opt_in<float>("beta", nc);
            const float* rm = c.in<float>("running_mean", nc);
            const float* rv = c.in<float>("running_var", nc);
            c.call(kiln_batch_norm_eval_f32, ctx, n, ch, hw, x, gamma, beta, rm, rv, eps, c.out<float>("y", nx));
            break;
        }
        case 2: {
            const float* dy = c.in<float>("dy", nx);
            const float* mean = c.in<float>("save_mean", nc);
            const float* invstd = c.in<float>("save_invstd", nc);
            float* dx = c.opt_out<float>("dx", nx);
            float* dgamma = c.opt_out<float>("dgamma", nc);
            c.call(kiln_batch_norm_backward_f32, ctx, n, ch, hw, x, dy, gamma, mean, invstd, dx, dgamma,
                   c.opt_out<float>("dbeta", nc));
            break;
        }
        default: {
            const float* dy = c.in<float>("dy", nx);
            const float* rm = c.in<float>("running_mean", nc);
            const float* rv = c.in<float>("running_var", nc);
            float* dx = c.opt_out<float>("dx", nx);
            float* dgamma = c.opt_out<float>("dgamma", nc);
            c.call(kiln_batch_norm_backward_eval_f32, ctx, n, ch, hw, x, dy, gamma, rm, rv, eps, dx, dgamma,
                   c.opt_out<float>("dbeta", nc));
            break;
        }
    }
}

void call_lstm(State& s) {
    static const char* const kNames[] = {"kiln_lstm_reserve_size", "kiln_lstm_forward_f32", "kiln_lstm_backward_f32"};
    const int which = s.in.u8() % 3;
    Call c(s, kNames[which]);
    kiln_context* ctx = which == 0 ? nullptr : pick_context(s, c);
    kiln_lstm_desc d{s.in.size(), s.in.size(), s.in.size(), s.in.size()};
    if (d.n < 1 || d.t < 1 || d.f < 1 || d.h < 1) c.forbid();
    const kiln_lstm_desc* dp = c.given("desc", Use::handle, s.in.one_in(40) ? nullptr : &d);
    const int64_t nx = c.extent({d.n, d.t, d.f}), ny = c.extent({d.n, d.t, d.h}), nh = c.extent({d.n, d.h});
    const int64_t nwi = c.extent({4, d.h, d.f}), nwh = c.extent({4, d.h, d.h}), nb = c.extent({4, d.h});
    const int64_t nres = c.extent({6, d.n, d.t, d.h});
    c.need(nx, 8), c.need(ny, 8), c.need(nh, 24), c.need(nwi, 8), c.need(nwh, 8), c.need(nb, 8), c.need(nres, 4);
    c.work(product({d.n, d.t, 4, d.h, sat_add(d.f, d.h)}));
    if (which == 0) {
        uint64_t bytes = 0;
        const kiln_status st =
            c.call(kiln_lstm_reserve_size, dp, c.given("bytes", Use::out, s.in.one_in(10) ? nullptr : &bytes));
        if (st == KILN_OK && bytes != (uint64_t)nres * 4) finding("reserve size differs from 24 n t h", c.op());
        return;
    }
    if (!c.runnable()) return;
    const float* x = c.in<float>("x", nx);
    const float* h0 = c.opt_in<float>("h0", nh);  // "h0, c0 (n, h) may be NULL (zeros)"
    const float* c0 = c.opt_in<float>("c0", nh);
    // The backward reads w_ih only for dx ("an input the call does not read may be NULL"): declared once dx is chosen.
    const float* w_ih = which == 1 ? c.in<float>("w_ih", nwi) : c.ptr<float>(nwi);
    const float* w_hh = c.in<float>("w_hh", nwh);
    if (which == 1) {
        const float* bias = c.in<float>("bias", nb);
        float* y = c.out<float>("y", ny);
        float* h_n = c.out<float>("h_n", nh);
        float* c_n = c.out<float>("c_n", nh);
        c.call(kiln_lstm_forward_f32, ctx, dp, x, h0, c0, w_ih, w_hh, bias, y, h_n, c_n,
               c.opt_out<float>("reserve", nres));
        return;
    }
    const float* reserve = c.in<float>("reserve", nres);
    const float* dy = c.in<float>("dy", ny);
    const float* dh_n = c.opt_in<float>("dh_n", nh);
    const float* dc_n = c.opt_in<float>("dc_n", nh);
    float* dx = c.opt_out<float>("dx", nx);
    c.given("w_ih", dx ? Use::in : Use::opt_in, w_ih, nwi);
    float* dh0 = c.opt_out<float>("dh0", nh);
    float* dc0 = c.opt_out<float>("dc0", nh);
    float* dw_ih = c.opt_out<float>("dw_ih", nwi);
    float* dw_hh = c.opt_out<float>("dw_hh", nwh);
    c.call(kiln_lstm_backward_f32, ctx, dp, x, h0, c0, w_ih, w_hh, reserve, dy, dh_n, dc_n, dx, dh0, dc0, dw_ih,
           dw_hh, c.opt_out<float>("dbias", nb));
}

// The VAE's sampling family: reparameterization (n) and the Gaussian KL over (batch, dim).
void call_sampling(State& s) {
    static const char* const kNames[] = {"kiln_reparameterize_f32", "kiln_reparameterize_backward_f32",
                                         "kiln_gaussian_kl_f32", "kiln_gaussian_kl_backward_f32"};
    const int which = s.in.u8() % 4;
    Call c(s, kNames[which]);
    kiln_context* ctx = pick_context(s, c);
    const int64_t a = s.in.size(), b = which >= 2 ? s.in.size() : 1;
    const int64_t n = c.extent({a, b});
    for (int i = 0; i < 4; ++i) c.need(n, 4);
    c.need(1, 4);
    c.work({n});
    const uint64_t seed = s.in.u64(), offset = s.in.one_in(2) ? 0 : s.in.u64();
    if (!c.runnable()) return;
    // Every entry here reads two (n) operands first: mu and logvar, or the backward's logvar and dz.
    const float* x = c.in<float>(which == 1 ? "logvar" : "mu", n);
    const float* y = c.in<float>(which == 1 ? "dz" : "logvar", n);
    switch (which) {
        case 0: {
            float* z = s.in.one_in(4) ? c.given("z", Use::out, const_cast<float*>(x), n) : c.out<float>("z", n);
            c.call(kiln_reparameterize_f32, ctx, x, y, z, a, seed, offset);
            break;
        }
        case 1: {
            float* dmu = c.opt_out<float>("dmu", n);
            c.call(kiln_reparameterize_backward_f32, ctx, x, y, dmu, c.opt_out<float>("dlogvar", n), a, seed, offset);
            break;
        }
        case 2: c.call(kiln_gaussian_kl_f32, ctx, x, y, c.out<float>("loss", 1), a, b); break;
        default: {
            const float* dloss = c.in<float>("dloss", 1);
            float* dmu = c.opt_out<float>("dmu", n);
            c.call(kiln_gaussian_kl_backward_f32, ctx, x, y, dloss, dmu, c.opt_out<float>("dlogvar", n), a, b);
            break;
        }
    }
}

}  // namespace kiln::fuzz

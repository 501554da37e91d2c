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
    const bool desc_null = s.in.one_in(40);
    if (desc_null) c.forbid();
    const int64_t nx = c.extent({d.n, d.c, d.h, d.w}), nw = c.extent({d.k, d.c, d.r, d.s});
    const int64_t ny = c.extent({d.n, d.k, d.p, d.q});
    c.need(nx, 4), c.need(nw, 4), c.need(ny, 4), c.need(d.k, 4);
    c.work(product({d.n, d.k, d.p, d.q, d.c, d.r, d.s}));
    c.work(product({d.n, d.c, d.h, d.w, 4}));
    if (which == 3) {
        uint64_t bytes = 0;
        const bool want = !s.in.one_in(10);
        if (!want) c.forbid();
        c.check(kiln_conv2d_workspace_size(desc_null ? nullptr : &d, want ? &bytes : nullptr));
        return;
    }
    if (!c.runnable()) return;
    const kiln_conv2d_desc* dp = desc_null ? nullptr : &d;
    kiln_status st;
    if (which == 0) {
        const float* x = c.ptr<float>(nx);
        const float* w = c.ptr<float>(nw);
        const float* bias = c.ptr<float>(d.k);
        st = kiln_conv2d_forward_f32(ctx, dp, x, w, bias, c.ptr<float>(ny));
    } else if (which == 1) {
        const float* dy = c.ptr<float>(ny);
        const float* w = c.ptr<float>(nw);
        st = kiln_conv2d_backward_data_f32(ctx, dp, dy, w, c.ptr<float>(nx));
    } else {
        const float* x = c.ptr<float>(nx);
        const float* dy = c.ptr<float>(ny);
        float* dw = c.ptr<float>(nw);
        st = kiln_conv2d_backward_weight_f32(ctx, dp, x, dy, dw, c.ptr<float>(d.k));
    }
    c.check(st);
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
    const bool desc_null = s.in.one_in(40);
    if (desc_null) c.forbid();
    const int64_t nx = c.extent({d.n, d.c, d.h, d.w}), ny = c.extent({d.n, d.c, d.p, d.q});
    c.need(nx, 4), c.need(ny, 4), c.need(ny, 4);
    c.work(product({d.n, d.c, d.p, d.q, d.kernel_h, d.kernel_w}));
    c.work({nx});
    const int32_t include = s.in.one_in(2) ? 0 : s.in.i32();
    if (!c.runnable()) return;
    const int64_t plane = d.h > 0 && d.w > 0 && d.h <= INT32_MAX && d.w <= INT32_MAX / d.h ? d.h * d.w : 0;
    const kiln_pool2d_desc* dp = desc_null ? nullptr : &d;
    kiln_status st;
    switch (which) {
        case 0: {
            const float* x = c.ptr<float>(nx);
            float* y = c.ptr<float>(ny);
            st = kiln_max_pool2d_f32(ctx, dp, x, y, c.ptr<int32_t>(ny, (int)plane));
            break;
        }
        case 1: {
            const float* dy = c.ptr<float>(ny);
            const int32_t* index = c.ptr<int32_t>(ny, (int)plane);
            st = kiln_max_pool2d_backward_f32(ctx, dp, dy, index, c.ptr<float>(nx));
            break;
        }
        case 2: {
            const float* x = c.ptr<float>(nx);
            st = kiln_avg_pool2d_f32(ctx, dp, x, c.ptr<float>(ny), include);
            break;
        }
        default: {
            const float* dy = c.ptr<float>(ny);
            st = kiln_avg_pool2d_backward_f32(ctx, dp, dy, c.ptr<float>(nx), include);
            break;
        }
    }
    c.check(st);
}

void call_batchnorm(State& s) {
    static const char* const kNames[] = {"kiln_batch_norm_train_f32", "kiln_batch_norm_eval_f32",
                                         "kiln_batch_norm_backward_f32", "kiln_batch_norm_backward_eval_f32"};
    const int which = s.in.u8() % 4;
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
    if (!c.runnable()) return;
    const float* x = c.ptr<float>(nx);
    const float* gamma = c.ptr<float>(nc);
    kiln_status st;
    switch (which) {
        case 0: {
            const float* beta = c.ptr<float>(nc);
            float* y = c.ptr<float>(nx);
            float* mean = c.ptr<float>(nc);
            float* invstd = c.ptr<float>(nc);
            float* rm = c.ptr<float>(nc);
            st = kiln_batch_norm_train_f32(ctx, n, ch, hw, x, gamma, beta, y, mean, invstd, rm, c.ptr<float>(nc),
                                           momentum, eps);
            break;
        }
        case 1: {
            const float* beta = c.ptr<float>(nc);
            const float* rm = c.ptr<float>(nc);
            const float* rv = c.ptr<float>(nc);
            st = kiln_batch_norm_eval_f32(ctx, n, ch, hw, x, gamma, beta, rm, rv, eps, c.ptr<float>(nx));
            break;
        }
        case 2: {
            const float* dy = c.ptr<float>(nx);
            const float* mean = c.ptr<float>(nc);
            const float* invstd = c.ptr<float>(nc);
            float* dx = c.ptr<float>(nx);
            float* dgamma = c.ptr<float>(nc);
            st = kiln_batch_norm_backward_f32(ctx, n, ch, hw, x, dy, gamma, mean, invstd, dx, dgamma, c.ptr<float>(nc));
            break;
        }
        default: {
            const float* dy = c.ptr<float>(nx);
            const float* rm = c.ptr<float>(nc);
            const float* rv = c.ptr<float>(nc);
            float* dx = c.ptr<float>(nx);
            float* dgamma = c.ptr<float>(nc);
            st = kiln_batch_norm_backward_eval_f32(ctx, n, ch, hw, x, dy, gamma, rm, rv, eps, dx, dgamma,
                                                   c.ptr<float>(nc));
            break;
        }
    }
    c.check(st);
}

void call_lstm(State& s) {
    static const char* const kNames[] = {"kiln_lstm_reserve_size", "kiln_lstm_forward_f32", "kiln_lstm_backward_f32"};
    const int which = s.in.u8() % 3;
    Call c(s, kNames[which]);
    kiln_context* ctx = which == 0 ? nullptr : pick_context(s, c);
    kiln_lstm_desc d{s.in.size(), s.in.size(), s.in.size(), s.in.size()};
    if (d.n < 1 || d.t < 1 || d.f < 1 || d.h < 1) c.forbid();
    const bool desc_null = s.in.one_in(40);
    if (desc_null) c.forbid();
    const int64_t nx = c.extent({d.n, d.t, d.f}), ny = c.extent({d.n, d.t, d.h}), nh = c.extent({d.n, d.h});
    const int64_t nwi = c.extent({4, d.h, d.f}), nwh = c.extent({4, d.h, d.h}), nb = c.extent({4, d.h});
    const int64_t nres = c.extent({6, d.n, d.t, d.h});
    c.need(nx, 8), c.need(ny, 8), c.need(nh, 24), c.need(nwi, 8), c.need(nwh, 8), c.need(nb, 8), c.need(nres, 4);
    c.work(product({d.n, d.t, 4, d.h, sat_add(d.f, d.h)}));
    if (which == 0) {
        uint64_t bytes = 0;
        const bool want = !s.in.one_in(10);
        if (!want) c.forbid();
        const kiln_status st = kiln_lstm_reserve_size(desc_null ? nullptr : &d, want ? &bytes : nullptr);
        c.check(st);
        if (st == KILN_OK && bytes != (uint64_t)nres * 4) finding("reserve size differs from 24 n t h", c.op());
        return;
    }
    if (!c.runnable()) return;
    const kiln_lstm_desc* dp = desc_null ? nullptr : &d;
    const float* x = c.ptr<float>(nx);
    const float* h0 = c.ptr<float>(nh);
    const float* c0 = c.ptr<float>(nh);
    const float* w_ih = c.ptr<float>(nwi);
    const float* w_hh = c.ptr<float>(nwh);
    kiln_status st;
    if (which == 1) {
        const float* bias = c.ptr<float>(nb);
        float* y = c.ptr<float>(ny);
        float* h_n = c.ptr<float>(nh);
        float* c_n = c.ptr<float>(nh);
        st = kiln_lstm_forward_f32(ctx, dp, x, h0, c0, w_ih, w_hh, bias, y, h_n, c_n, c.ptr<float>(nres));
    } else {
        const float* reserve = c.ptr<float>(nres);
        const float* dy = c.ptr<float>(ny);
        const float* dh_n = c.ptr<float>(nh);
        const float* dc_n = c.ptr<float>(nh);
        float* dx = c.ptr<float>(nx);
        float* dh0 = c.ptr<float>(nh);
        float* dc0 = c.ptr<float>(nh);
        float* dw_ih = c.ptr<float>(nwi);
        float* dw_hh = c.ptr<float>(nwh);
        st = kiln_lstm_backward_f32(ctx, dp, x, h0, c0, w_ih, w_hh, reserve, dy, dh_n, dc_n, dx, dh0, dc0, dw_ih,
                                    dw_hh, c.ptr<float>(nb));
    }
    c.check(st);
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
    const float* x = c.ptr<float>(n);
    const float* y = c.ptr<float>(n);
    kiln_status st;
    switch (which) {
        case 0: st = kiln_reparameterize_f32(ctx, x, y, s.in.one_in(4) ? const_cast<float*>(x) : c.ptr<float>(n), a,
                                             seed, offset); break;
        case 1: {
            float* dmu = c.ptr<float>(n);
            st = kiln_reparameterize_backward_f32(ctx, x, y, dmu, c.ptr<float>(n), a, seed, offset);
            break;
        }
        case 2: st = kiln_gaussian_kl_f32(ctx, x, y, c.ptr<float>(1), a, b); break;
        default: {
            const float* dloss = c.ptr<float>(1);
            float* dmu = c.ptr<float>(n);
            st = kiln_gaussian_kl_backward_f32(ctx, x, y, dloss, dmu, c.ptr<float>(n), a, b);
            break;
        }
    }
    c.check(st);
}

}  // namespace kiln::fuzz

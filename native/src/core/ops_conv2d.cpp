// C ABI entries for 2-D convolution: validate the descriptor (sizes, stride/pad/dilation, p and q against the output
// formula) and the pointers, then run the backend of the context's device.
#include "common/conv_geometry.h"
#include "conv2d.h"
#include "core/checked.h"
#include "core/dispatch.h"
#include "core/window.h"

using kiln::fail;

namespace {

// The kernels index one image's tensors with 32-bit offsets in places; real layers are far below this.
constexpr int64_t kMaxPerImage = (int64_t(1) << 31) - 1;

// Validates the descriptor and returns it as the backends' geometry.
kiln::conv::Geometry validate_desc(const char* op, const kiln_conv2d_desc* d) {
    if (!d) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc' is null", op);
    if (d->n < 0 || d->c < 1 || d->h < 1 || d->w < 1 || d->k < 1 || d->r < 1 || d->s < 1)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: needs n >= 0 and c, h, w, k, r, s >= 1, got x (n=%lld, c=%lld, h=%lld, w=%lld), "
             "w (k=%lld, c, r=%lld, s=%lld)",
             op, (long long)d->n, (long long)d->c, (long long)d->h, (long long)d->w, (long long)d->k, (long long)d->r,
             (long long)d->s);
    // Sizes past 2^31 per axis cannot be real and would overflow the padded-extent arithmetic below.
    const int64_t lim = kMaxPerImage;
    if (d->c > lim || d->h > lim || d->w > lim || d->k > lim || d->r > lim || d->s > lim)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: c, h, w, k, r, s must each be < 2^31, got c=%lld h=%lld w=%lld k=%lld r=%lld s=%lld", op, (long long)d->c, (long long)d->h, (long long)d->w, (long long)d->k, (long long)d->r, (long long)d->s);
    kiln::check_window_axis(op, {"h", "h", "r", "p", d->h, d->r, d->stride_h, d->pad_h, d->dilation_h, d->p, false});
    kiln::check_window_axis(op, {"w", "w", "s", "q", d->w, d->s, d->stride_w, d->pad_w, d->dilation_w, d->q, false});
    kiln::checked_product(op, "x", {{"n", d->n}, {"c", d->c}, {"h", d->h}, {"w", d->w}});
    kiln::checked_product(op, "y", {{"n", d->n}, {"k", d->k}, {"p", d->p}, {"q", d->q}});
    kiln::checked_product(op, "one image of x", {{"c", d->c}, {"h", d->h}, {"w", d->w}}, kMaxPerImage);
    kiln::checked_product(op, "one image of y", {{"k", d->k}, {"p", d->p}, {"q", d->q}}, kMaxPerImage);
    kiln::checked_product(op, "w", {{"k", d->k}, {"c", d->c}, {"r", d->r}, {"s", d->s}}, kMaxPerImage);
    kiln::conv::Geometry g;
    g.n = d->n, g.c = d->c, g.h = d->h, g.w = d->w;
    g.k = d->k, g.r = d->r, g.s = d->s;
    g.stride_h = d->stride_h, g.stride_w = d->stride_w;
    g.pad_h = d->pad_h, g.pad_w = d->pad_w;
    g.dilation_h = d->dilation_h, g.dilation_w = d->dilation_w;
    g.p = d->p, g.q = d->q;
    return g;
}

}  // namespace

extern "C" {

kiln_status kiln_conv2d_forward_f32(kiln_context* ctx, const kiln_conv2d_desc* desc, const float* x, const float* w,
                                    const float* bias, float* y) {
    const char* op = "kiln_conv2d_forward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        const kiln::conv::Geometry g = validate_desc(op, desc);
        kiln::require_all(op, {{x, kiln::conv::x_size(g), "x"}, {w, kiln::conv::w_size(g), "w"},
                               {y, kiln::conv::y_size(g), "y"}});
        kiln::check_outputs_apart(op, {{"y", y, kiln::conv::y_size(g) * 4}},
                                  {{"x", x, kiln::conv::x_size(g) * 4}, {"w", w, kiln::conv::w_size(g) * 4},
                                   {"bias", bias, g.k * 4}});
        kiln::dispatch(cx, op, KILN_BACKENDS(conv2d_forward_f32), g, x, w, bias, y);
    });
}

kiln_status kiln_conv2d_backward_data_f32(kiln_context* ctx, const kiln_conv2d_desc* desc, const float* dy,
                                          const float* w, float* dx) {
    const char* op = "kiln_conv2d_backward_data_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        const kiln::conv::Geometry g = validate_desc(op, desc);
        kiln::require_all(op, {{dy, kiln::conv::y_size(g), "dy"}, {w, kiln::conv::w_size(g), "w"},
                               {dx, kiln::conv::x_size(g), "dx"}});
        kiln::check_outputs_apart(op, {{"dx", dx, kiln::conv::x_size(g) * 4}},
                                  {{"dy", dy, kiln::conv::y_size(g) * 4}, {"w", w, kiln::conv::w_size(g) * 4}});
        kiln::dispatch(cx, op, KILN_BACKENDS(conv2d_backward_data_f32), g, dy, w, dx);
    });
}

kiln_status kiln_conv2d_backward_weight_f32(kiln_context* ctx, const kiln_conv2d_desc* desc, const float* x,
                                            const float* dy, float* dw, float* dbias) {
    const char* op = "kiln_conv2d_backward_weight_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        const kiln::conv::Geometry g = validate_desc(op, desc);
        kiln::require_all(op, {{x, kiln::conv::x_size(g), "x"}, {dy, kiln::conv::y_size(g), "dy"},
                               {dw, kiln::conv::w_size(g), "dw"}});
        kiln::check_outputs_apart(op, {{"dw", dw, kiln::conv::w_size(g) * 4}, {"dbias", dbias, g.k * 4}},
                                  {{"x", x, kiln::conv::x_size(g) * 4}, {"dy", dy, kiln::conv::y_size(g) * 4}});
        kiln::dispatch(cx, op, KILN_BACKENDS(conv2d_backward_weight_f32), g, x, dy, dw, dbias);
    });
}

kiln_status kiln_conv2d_workspace_size(const kiln_conv2d_desc* desc, uint64_t* bytes) {
    const char* op = "kiln_conv2d_workspace_size";
    return kiln::guarded(op, [&] {
        if (!bytes) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'bytes' is null", op);
        *bytes = kiln::cpu::conv2d_workspace_bytes(validate_desc(op, desc));
    });
}

}  // extern "C"

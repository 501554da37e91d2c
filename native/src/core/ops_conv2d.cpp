// C ABI entries for 2-D convolution: validate the descriptor (sizes, stride/pad/dilation, p and q against the output
// formula) and the pointers, then run the CPU or CUDA backend of the context's device.
#include <cstdio>

#include "common/conv_geometry.h"
#include "core/context.h"
#include "core/gpu.h"
#include "cpu/conv2d.h"
#if KILN_WITH_CUDA
#include "conv2d.h"
#endif

using kiln::fail;

namespace {

// The kernels index one image's tensors with 32-bit offsets in places; real layers are far below this.
constexpr int64_t kMaxPerImage = (int64_t(1) << 31) - 1;

void check_axis(const char* op, const char* axis, int64_t in, int64_t ker, int32_t stride, int32_t pad,
                int32_t dilation, int64_t got, const char* in_name, const char* ker_name, const char* out_name) {
    if (stride < 1)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: desc.stride_%s must be >= 1, got %d", op, axis, (int)stride);
    if (dilation < 1)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: desc.dilation_%s must be >= 1, got %d", op, axis, (int)dilation);
    if (pad < 0) fail(KILN_ERR_INVALID_ARGUMENT, "%s: desc.pad_%s must be >= 0, got %d", op, axis, (int)pad);
    const int64_t want = kiln::conv::output_extent(in, ker, stride, pad, dilation);
    if (want <= 0)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: the kernel does not fit along %s: %s=%lld + 2*pad_%s=%d is smaller than the dilated kernel "
             "dilation_%s*(%s-1)+1 = %lld, so %s would be %lld (needs >= 1)",
             op, axis, in_name, (long long)in, axis, (int)pad, axis, ker_name,
             (long long)((int64_t)dilation * (ker - 1) + 1), out_name, (long long)want);
    if (got != want)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: desc.%s is %lld but expected %lld = (%s=%lld + 2*pad_%s=%d - dilation_%s=%d*(%s=%lld - 1) - 1) / "
             "stride_%s=%d + 1",
             op, out_name, (long long)got, (long long)want, in_name, (long long)in, axis, (int)pad, axis, (int)dilation,
             ker_name, (long long)ker, axis, (int)stride);
}

// a * b * c * d without overflow, or a failure naming the tensor.
int64_t count4(const char* op, const char* what, int64_t a, int64_t b, int64_t c, int64_t d) {
    int64_t ab, abc, abcd;
    if (__builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(ab, c, &abc) ||
        __builtin_mul_overflow(abc, d, &abcd))
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: %s (%lld, %lld, %lld, %lld) has more elements than int64 holds", op, what,
             (long long)a, (long long)b, (long long)c, (long long)d);
    return abcd;
}

void check_per_image(const char* op, const char* what, int64_t elems, int64_t a, int64_t b, int64_t c) {
    if (elems > kMaxPerImage)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: one image of %s (%lld, %lld, %lld) has %lld elements; at most %lld supported", op, what, (long long)a, (long long)b, (long long)c, (long long)elems, (long long)kMaxPerImage);
}

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
    check_axis(op, "h", d->h, d->r, d->stride_h, d->pad_h, d->dilation_h, d->p, "h", "r", "p");
    check_axis(op, "w", d->w, d->s, d->stride_w, d->pad_w, d->dilation_w, d->q, "w", "s", "q");
    count4(op, "x", d->n, d->c, d->h, d->w);
    count4(op, "y", d->n, d->k, d->p, d->q);
    check_per_image(op, "x", count4(op, "x", 1, d->c, d->h, d->w), d->c, d->h, d->w);
    check_per_image(op, "y", count4(op, "y", 1, d->k, d->p, d->q), d->k, d->p, d->q);
    check_per_image(op, "w", count4(op, "w", d->k, d->c, d->r, d->s), d->k, d->c, d->r * d->s);
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
        kiln::require_data(x, (size_t)kiln::conv::x_size(g), op, "x");
        kiln::require_data(w, (size_t)kiln::conv::w_size(g), op, "w");
        kiln::require_data(y, (size_t)kiln::conv::y_size(g), op, "y");
        if (kiln::on_cpu(cx)) return kiln::cpu::conv2d_forward(g, x, w, bias, y);
        KILN_CUDA_RUN(op, kiln::cuda::conv2d_forward(KILN_STREAM(cx), g, x, w, bias, y));
    });
}

kiln_status kiln_conv2d_backward_data_f32(kiln_context* ctx, const kiln_conv2d_desc* desc, const float* dy,
                                          const float* w, float* dx) {
    const char* op = "kiln_conv2d_backward_data_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        const kiln::conv::Geometry g = validate_desc(op, desc);
        kiln::require_data(dy, (size_t)kiln::conv::y_size(g), op, "dy");
        kiln::require_data(w, (size_t)kiln::conv::w_size(g), op, "w");
        kiln::require_data(dx, (size_t)kiln::conv::x_size(g), op, "dx");
        if (kiln::on_cpu(cx)) return kiln::cpu::conv2d_backward_data(g, dy, w, dx);
        KILN_CUDA_RUN(op, kiln::cuda::conv2d_backward_data(KILN_STREAM(cx), g, dy, w, dx));
    });
}

kiln_status kiln_conv2d_backward_weight_f32(kiln_context* ctx, const kiln_conv2d_desc* desc, const float* x,
                                            const float* dy, float* dw, float* dbias) {
    const char* op = "kiln_conv2d_backward_weight_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        const kiln::conv::Geometry g = validate_desc(op, desc);
        kiln::require_data(x, (size_t)kiln::conv::x_size(g), op, "x");
        kiln::require_data(dy, (size_t)kiln::conv::y_size(g), op, "dy");
        kiln::require_data(dw, (size_t)kiln::conv::w_size(g), op, "dw");
        if (kiln::on_cpu(cx)) return kiln::cpu::conv2d_backward_weight(g, x, dy, dw, dbias);
#if KILN_WITH_CUDA
        kiln::DeviceScratch workspace(cx, kiln::cuda::conv2d_backward_weight_workspace_bytes(g));
        KILN_CUDA_RUN(op, kiln::cuda::conv2d_backward_weight(KILN_STREAM(cx), g, x, dy, dw, dbias,
                                                             workspace.as<float>()));
#else
        KILN_CUDA_RUN(op, 0);
#endif
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

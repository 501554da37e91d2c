// C ABI entries for 2-D max and average pooling: validates the descriptor (sizes, window, padding, the output size
// from the floor formula), then runs the CPU or CUDA backend of the context's device.
#include <climits>

#include "core/context.h"
#include "core/gpu.h"
#include "cpu/pool.h"
#if KILN_WITH_CUDA
#include "pool.h"
#endif

using kiln::fail;

namespace {

struct Sizes {
    kiln::PoolGeom geom;
    int64_t planes;  // n * c
    int64_t nx;      // elements of x / dx: n * c * h * w
    int64_t ny;      // elements of y / dy / index: n * c * p * q
};

int64_t mul_or_fail(const char* op, const char* what, int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) fail(KILN_ERR_INVALID_ARGUMENT, "%s: %s overflows int64", op, what);
    return r;
}

// Checks one spatial axis ("h": input h, kernel_h, stride_h, pad_h, p) against x (n, c, h, w) -> y (n, c, p, q).
void check_axis(const char* op, const char* in_name, const char* out_name, const char* suffix, int64_t in,
                int32_t kernel, int32_t stride, int32_t pad, int64_t out) {
    // The upper bound keeps in + 2 pad (pad < 2^31) from overflowing; no real plane comes near it.
    if (in < 1 || in > ((int64_t)1 << 62))
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc.%s' must be in [1, 2^62], got %lld", op, in_name,
             (long long)in);
    if (kernel < 1)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc.kernel_%s' must be >= 1, got %d", op, suffix, kernel);
    if (stride < 1)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc.stride_%s' must be >= 1, got %d", op, suffix, stride);
    // pad <= kernel / 2 keeps at least one real element in every window (so max has a winner and avg a divisor).
    if (pad < 0 || 2 * (int64_t)pad > kernel)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc.pad_%s' must be in [0, kernel_%s / 2] = [0, %d], got %d",
             op, suffix, suffix, kernel / 2, pad);
    if (in + 2 * (int64_t)pad < kernel)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: window kernel_%s=%d is larger than the padded input %s + 2 pad_%s = %lld + 2*%d", op, suffix, kernel,
             in_name, suffix, (long long)in, pad);
    const int64_t want = kiln::pool_out_size(in, kernel, stride, pad);
    if (out != want)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: argument 'desc.%s' is %lld but (%s + 2 pad_%s - kernel_%s) / stride_%s + 1 "
             "= (%lld + 2*%d - %d) / %d + 1 = %lld",
             op, out_name, (long long)out, in_name, suffix, suffix, suffix, (long long)in, pad, kernel, stride,
             (long long)want);
}

Sizes validate(const char* op, const kiln_pool2d_desc* d, bool has_index) {
    if (!d) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc' is null", op);
    if (d->n < 0 || d->c < 0)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: needs n, c >= 0, got n=%lld c=%lld", op, (long long)d->n, (long long)d->c);
    check_axis(op, "h", "p", "h", d->h, d->kernel_h, d->stride_h, d->pad_h, d->p);
    check_axis(op, "w", "q", "w", d->w, d->kernel_w, d->stride_w, d->pad_w, d->q);
    Sizes s;
    s.geom = kiln::PoolGeom{d->h,        d->w,        d->p,        d->q,     d->kernel_h,
                            d->kernel_w, d->stride_h, d->stride_w, d->pad_h, d->pad_w};
    const int64_t hw = mul_or_fail(op, "h * w", d->h, d->w);
    if (has_index && hw > INT32_MAX)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: an input plane of h * w = %lld * %lld elements does not fit the int32 index", op, (long long)d->h,
             (long long)d->w);
    s.planes = mul_or_fail(op, "n * c", d->n, d->c);
    s.nx = mul_or_fail(op, "n * c * h * w", s.planes, hw);
    s.ny = mul_or_fail(op, "n * c * p * q", s.planes, mul_or_fail(op, "p * q", d->p, d->q));
    return s;
}

}  // namespace

extern "C" {

kiln_status kiln_max_pool2d_f32(kiln_context* ctx, const kiln_pool2d_desc* desc, const float* x, float* y,
                                int32_t* index) {
    const char* op = "kiln_max_pool2d_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const Sizes s = validate(op, desc, true);
        kiln::require_data(x, (size_t)s.nx, op, "x");
        kiln::require_data(y, (size_t)s.ny, op, "y");
        kiln::require_data(index, (size_t)s.ny, op, "index");
        if (s.ny == 0) return;
        if (kiln::on_cpu(c)) return kiln::cpu::max_pool2d_f32(s.geom, s.planes, x, y, index);
        KILN_CUDA_RUN(op, kiln::cuda::max_pool2d_f32(KILN_STREAM(c), s.geom, s.planes, x, y, index));
    });
}

kiln_status kiln_max_pool2d_backward_f32(kiln_context* ctx, const kiln_pool2d_desc* desc, const float* dy,
                                         const int32_t* index, float* dx) {
    const char* op = "kiln_max_pool2d_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const Sizes s = validate(op, desc, true);
        if (!dx) return;  // gradient not wanted (ops: conventions)
        kiln::require_data(dy, (size_t)s.ny, op, "dy");
        kiln::require_data(index, (size_t)s.ny, op, "index");
        if (s.nx == 0) return;
        if (kiln::on_cpu(c)) return kiln::cpu::max_pool2d_backward_f32(s.geom, s.planes, dy, index, dx);
        KILN_CUDA_RUN(op, kiln::cuda::max_pool2d_backward_f32(KILN_STREAM(c), s.geom, s.planes, dy, index, dx));
    });
}

kiln_status kiln_avg_pool2d_f32(kiln_context* ctx, const kiln_pool2d_desc* desc, const float* x, float* y,
                                int32_t count_include_pad) {
    const char* op = "kiln_avg_pool2d_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const Sizes s = validate(op, desc, false);
        kiln::require_data(x, (size_t)s.nx, op, "x");
        kiln::require_data(y, (size_t)s.ny, op, "y");
        if (s.ny == 0) return;
        const bool include = count_include_pad != 0;
        if (kiln::on_cpu(c)) return kiln::cpu::avg_pool2d_f32(s.geom, s.planes, x, y, include);
        KILN_CUDA_RUN(op, kiln::cuda::avg_pool2d_f32(KILN_STREAM(c), s.geom, s.planes, x, y, include));
    });
}

kiln_status kiln_avg_pool2d_backward_f32(kiln_context* ctx, const kiln_pool2d_desc* desc, const float* dy, float* dx,
                                         int32_t count_include_pad) {
    const char* op = "kiln_avg_pool2d_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const Sizes s = validate(op, desc, false);
        if (!dx) return;  // gradient not wanted
        kiln::require_data(dy, (size_t)s.ny, op, "dy");
        if (s.nx == 0) return;
        const bool include = count_include_pad != 0;
        if (kiln::on_cpu(c)) return kiln::cpu::avg_pool2d_backward_f32(s.geom, s.planes, dy, dx, include);
        KILN_CUDA_RUN(op, kiln::cuda::avg_pool2d_backward_f32(KILN_STREAM(c), s.geom, s.planes, dy, dx, include));
    });
}

}  // extern "C"

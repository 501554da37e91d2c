// C ABI entries for 2-D max and average pooling: validates the descriptor (sizes, window, padding, the output size
// from the floor formula), then runs the backend of the context's device.
#include <climits>

#include "core/checked.h"
#include "core/dispatch.h"
#include "core/window.h"
#include "pool.h"

using kiln::fail;

namespace {

struct Sizes {
    kiln::PoolGeom geom;
    int64_t planes;  // n * c
    int64_t nx;      // elements of x / dx: n * c * h * w
    int64_t ny;      // elements of y / dy / index: n * c * p * q
};

Sizes validate(const char* op, const kiln_pool2d_desc* d, bool has_index) {
    if (!d) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc' is null", op);
    if (d->n < 0 || d->c < 0)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: needs n, c >= 0, got n=%lld c=%lld", op, (long long)d->n, (long long)d->c);
    kiln::check_window_axis(op, {"h", "h", "kernel_h", "p", d->h, d->kernel_h, d->stride_h, d->pad_h, 1, d->p, true});
    kiln::check_window_axis(op, {"w", "w", "kernel_w", "q", d->w, d->kernel_w, d->stride_w, d->pad_w, 1, d->q, true});
    Sizes s;
    s.geom = kiln::PoolGeom{d->h,        d->w,        d->p,        d->q,     d->kernel_h,
                            d->kernel_w, d->stride_h, d->stride_w, d->pad_h, d->pad_w};
    const int64_t hw = kiln::checked_product(op, "an input plane", {{"h", d->h}, {"w", d->w}});
    if (has_index && hw > INT32_MAX)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: an input plane of h * w = %lld * %lld elements does not fit the int32 index", op, (long long)d->h,
             (long long)d->w);
    s.planes = kiln::checked_product(op, "the planes", {{"n", d->n}, {"c", d->c}});
    s.nx = kiln::checked_product(op, "x", {{"n", d->n}, {"c", d->c}, {"h", d->h}, {"w", d->w}});
    s.ny = kiln::checked_product(op, "y", {{"n", d->n}, {"c", d->c}, {"p", d->p}, {"q", d->q}});
    return s;
}

// The part every entry shares: the context, then the descriptor; body(c, s) checks the pointers and dispatches.
template <class Body>
kiln_status pool_entry(const char* op, kiln_context* ctx, const kiln_pool2d_desc* desc, bool has_index, Body&& body) {
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        body(c, validate(op, desc, has_index));
    });
}

}  // namespace

extern "C" {

kiln_status kiln_max_pool2d_f32(kiln_context* ctx, const kiln_pool2d_desc* desc, const float* x, float* y,
                                int32_t* index) {
    const char* op = "kiln_max_pool2d_f32";
    return pool_entry(op, ctx, desc, true, [&](kiln_context& c, const Sizes& s) {
        kiln::require_all(op, {{x, s.nx, "x"}, {y, s.ny, "y"}, {index, s.ny, "index"}});
        kiln::check_outputs_apart(op, {{"y", y, s.ny * 4}, {"index", index, s.ny * 4}}, {{"x", x, s.nx * 4}});
        if (s.ny > 0) kiln::dispatch(c, op, KILN_BACKENDS(max_pool2d_f32), s.geom, s.planes, x, y, index);
    });
}

kiln_status kiln_max_pool2d_backward_f32(kiln_context* ctx, const kiln_pool2d_desc* desc, const float* dy,
                                         const int32_t* index, float* dx) {
    const char* op = "kiln_max_pool2d_backward_f32";
    return pool_entry(op, ctx, desc, true, [&](kiln_context& c, const Sizes& s) {
        if (!dx) return;  // gradient not wanted (ops: conventions)
        kiln::require_all(op, {{dy, s.ny, "dy"}, {index, s.ny, "index"}});
        kiln::check_outputs_apart(op, {{"dx", dx, s.nx * 4}}, {{"dy", dy, s.ny * 4}, {"index", index, s.ny * 4}});
        if (s.nx == 0) return;
        kiln::dispatch(c, op, KILN_BACKENDS(max_pool2d_backward_f32), s.geom, s.planes, dy, index, dx);
    });
}

kiln_status kiln_avg_pool2d_f32(kiln_context* ctx, const kiln_pool2d_desc* desc, const float* x, float* y,
                                int32_t count_include_pad) {
    const char* op = "kiln_avg_pool2d_f32";
    const bool include = count_include_pad != 0;
    return pool_entry(op, ctx, desc, false, [&](kiln_context& c, const Sizes& s) {
        kiln::require_all(op, {{x, s.nx, "x"}, {y, s.ny, "y"}});
        kiln::check_outputs_apart(op, {{"y", y, s.ny * 4}}, {{"x", x, s.nx * 4}});
        if (s.ny > 0) kiln::dispatch(c, op, KILN_BACKENDS(avg_pool2d_f32), s.geom, s.planes, x, y, include);
    });
}

kiln_status kiln_avg_pool2d_backward_f32(kiln_context* ctx, const kiln_pool2d_desc* desc, const float* dy, float* dx,
                                         int32_t count_include_pad) {
    const char* op = "kiln_avg_pool2d_backward_f32";
    const bool include = count_include_pad != 0;
    return pool_entry(op, ctx, desc, false, [&](kiln_context& c, const Sizes& s) {
        if (!dx) return;  // gradient not wanted
        kiln::require_data(dy, (size_t)s.ny, op, "dy");
        kiln::check_outputs_apart(op, {{"dx", dx, s.nx * 4}}, {{"dy", dy, s.ny * 4}});
        if (s.nx == 0) return;
        kiln::dispatch(c, op, KILN_BACKENDS(avg_pool2d_backward_f32), s.geom, s.planes, dy, dx, include);
    });
}

}  // extern "C"

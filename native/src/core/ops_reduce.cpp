// C ABI entries for reductions and softmax: validation, then the backend of the context's device.
#include <climits>

#include "core/checked.h"
#include "core/dispatch.h"
#include "reduce.h"

using kiln::fail;

namespace {

// rows >= 0, 1 <= cols (<= max_cols); returns rows * cols.
int64_t checked_rows_cols(const char* op, int64_t rows, int64_t cols, int64_t max_cols = INT64_MAX) {
    if (cols < 1)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'cols' must be >= 1, got %lld (rows=%lld)", op, (long long)cols,
             (long long)rows);
    if (cols > max_cols)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'cols' must be <= %lld (the index is int32), got %lld", op,
             (long long)max_cols, (long long)cols);
    return kiln::checked_product(op, "x", {{"rows", rows}, {"cols", cols}});
}

}  // namespace

extern "C" {

kiln_status kiln_reduce_sum_f32(kiln_context* ctx, const float* x, float* y, int64_t outer, int64_t len, int64_t inner,
                                float scale) {
    const char* op = "kiln_reduce_sum_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t nx = kiln::checked_product(op, "x", {{"outer", outer}, {"len", len}, {"inner", inner}});
        const int64_t ny = kiln::checked_product(op, "y", {{"outer", outer}, {"inner", inner}});
        kiln::require_all(op, {{x, nx, "x"}, {y, ny, "y"}});
        kiln::check_outputs_apart(op, {{"y", y, ny * 4}}, {{"x", x, nx * 4}});
        kiln::dispatch(c, op, KILN_BACKENDS(reduce_sum_f32), x, y, outer, len, inner, scale);
    });
}

kiln_status kiln_reduce_sum_backward_f32(kiln_context* ctx, const float* dy, float* dx, int64_t outer, int64_t len,
                                         int64_t inner, float scale) {
    const char* op = "kiln_reduce_sum_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t nx = kiln::checked_product(op, "x", {{"outer", outer}, {"len", len}, {"inner", inner}});
        const int64_t ny = kiln::checked_product(op, "y", {{"outer", outer}, {"inner", inner}});
        if (!dx) return;  // gradient not wanted (ops: conventions)
        kiln::require_data(dy, (size_t)(nx > 0 ? ny : 0), op, "dy");
        kiln::check_outputs_apart(op, {{"dx", dx, nx * 4}}, {{"dy", dy, ny * 4}});
        kiln::dispatch(c, op, KILN_BACKENDS(reduce_sum_backward_f32), dy, dx, outer, len, inner, scale);
    });
}

kiln_status kiln_max_lastdim_f32(kiln_context* ctx, const float* x, float* y, int32_t* index, int64_t rows,
                                 int64_t cols) {
    const char* op = "kiln_max_lastdim_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t n = checked_rows_cols(op, rows, cols, INT32_MAX);
        kiln::require_all(op, {{x, n, "x"}, {y, rows, "y"}, {index, rows, "index"}});
        kiln::check_outputs_apart(op, {{"y", y, rows * 4}, {"index", index, rows * 4}}, {{"x", x, n * 4}});
        kiln::dispatch(c, op, KILN_BACKENDS(max_lastdim_f32), x, y, index, rows, cols);
    });
}

kiln_status kiln_max_lastdim_backward_f32(kiln_context* ctx, const float* dy, const int32_t* index, float* dx,
                                          int64_t rows, int64_t cols) {
    const char* op = "kiln_max_lastdim_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t n = checked_rows_cols(op, rows, cols, INT32_MAX);
        if (!dx) return;  // gradient not wanted
        kiln::require_all(op, {{dy, rows, "dy"}, {index, rows, "index"}});
        kiln::check_outputs_apart(op, {{"dx", dx, n * 4}}, {{"dy", dy, rows * 4}, {"index", index, rows * 4}});
        kiln::dispatch(c, op, KILN_BACKENDS(max_lastdim_backward_f32), dy, index, dx, rows, cols);
    });
}

kiln_status kiln_sum_squares_f32(kiln_context* ctx, const float* x, int64_t n, float* out) {
    const char* op = "kiln_sum_squares_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        kiln::checked_product(op, "x", {{"n", n}});
        kiln::require_all(op, {{x, n, "x"}, {out, 1, "out"}});
        kiln::check_outputs_apart(op, {{"out", out, 4}}, {{"x", x, n * 4}});
        kiln::dispatch(c, op, KILN_BACKENDS(sum_squares_f32), x, n, out);
    });
}

kiln_status kiln_softmax_f32(kiln_context* ctx, const float* x, float* y, int64_t rows, int64_t cols, int32_t log) {
    const char* op = "kiln_softmax_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t n = checked_rows_cols(op, rows, cols);
        kiln::require_all(op, {{x, n, "x"}, {y, n, "y"}});
        kiln::check_outputs_apart(op, {{"y", y, n * 4}}, {{"x", x, n * 4}});  // every element of a row reads all of x's
        kiln::dispatch(c, op, KILN_BACKENDS(softmax_f32), x, y, rows, cols, log != 0);
    });
}

kiln_status kiln_softmax_backward_f32(kiln_context* ctx, const float* y, const float* dy, float* dx, int64_t rows,
                                      int64_t cols, int32_t log) {
    const char* op = "kiln_softmax_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t n = checked_rows_cols(op, rows, cols);
        if (!dx) return;  // gradient not wanted
        kiln::require_all(op, {{y, n, "y"}, {dy, n, "dy"}});
        kiln::check_outputs_apart(op, {{"dx", dx, n * 4}}, {{"y", y, n * 4}, {"dy", dy, n * 4}});
        kiln::dispatch(c, op, KILN_BACKENDS(softmax_backward_f32), y, dy, dx, rows, cols, log != 0);
    });
}

}  // extern "C"

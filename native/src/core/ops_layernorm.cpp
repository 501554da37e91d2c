// C ABI entries for layer norm (forward and backward over the last dimension of x (rows, cols)): validates sizes, eps
// and pointers, then runs the backend of the context's device.
#include <cmath>

#include "core/checked.h"
#include "core/dispatch.h"
#include "layernorm.h"

using kiln::fail;

namespace {

// x is (rows, cols): sizes >= 0, the element counts fit, and a row to normalize has at least one value (its mean and
// variance over no values do not exist). Returns rows * cols.
int64_t check_sizes(const char* op, int64_t rows, int64_t cols) {
    if (rows < 0 || cols < 0)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: needs rows, cols >= 0, got rows=%lld cols=%lld", op, (long long)rows,
             (long long)cols);
    const int64_t n = kiln::checked_product(op, "x", {{"rows", rows}, {"cols", cols}});
    // gamma/beta (cols) and mean/rstd (rows) have elements even when x has none.
    kiln::checked_product(op, "gamma", {{"cols", cols}});
    kiln::checked_product(op, "mean", {{"rows", rows}});
    if (rows > 0 && cols == 0)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: each of the rows=%lld rows needs cols >= 1 values to normalize, got cols=0", op, (long long)rows);
    return n;
}

}  // namespace

extern "C" {

kiln_status kiln_layer_norm_f32(kiln_context* ctx, const float* x, const float* gamma, const float* beta, float* y,
                                float* mean, float* rstd, int64_t rows, int64_t cols, float eps) {
    const char* op = "kiln_layer_norm_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        const int64_t n = check_sizes(op, rows, cols);
        if (!(eps > 0.0f) || !std::isfinite(eps))  // also refuses NaN
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'eps' must be a finite value > 0, got %g", op, (double)eps);
        kiln::require_all(op, {{x, n, "x"}, {y, n, "y"}});  // gamma, beta, mean, rstd may be NULL
        if (n == 0) return;
        kiln::check_same_or_disjoint(op, "y", y, n * 4, "x", x, n * 4);
        kiln::check_outputs_apart(op, {{"y", y, n * 4}}, {{"gamma", gamma, cols * 4}, {"beta", beta, cols * 4}});
        kiln::check_outputs_apart(op, {{"mean", mean, rows * 4}, {"rstd", rstd, rows * 4}},
                                  {{"x", x, n * 4}, {"gamma", gamma, cols * 4}, {"beta", beta, cols * 4},
                                   {"y", y, n * 4}});
        kiln::dispatch(cx, op, KILN_BACKENDS(layer_norm_f32), x, gamma, beta, y, mean, rstd, rows, cols, eps);
    });
}

kiln_status kiln_layer_norm_backward_f32(kiln_context* ctx, const float* x, const float* dy, const float* gamma,
                                         const float* mean, const float* rstd, float* dx, float* dgamma, float* dbeta,
                                         int64_t rows, int64_t cols) {
    const char* op = "kiln_layer_norm_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        const int64_t n = check_sizes(op, rows, cols);
        if (!dx && !dgamma && !dbeta) return;  // nothing wanted (ops: conventions)
        kiln::require_all(op, {{x, n, "x"}, {dy, n, "dy"}, {mean, rows, "mean"}, {rstd, rows, "rstd"}});
        const int64_t xb = n * 4, cb = cols * 4, rb = rows * 4;
        kiln::check_same_or_disjoint(op, "dx", dx, xb, "dy", dy, xb);
        kiln::check_outputs_apart(op, {{"dx", dx, xb}},
                                  {{"x", x, xb}, {"gamma", gamma, cb}, {"mean", mean, rb}, {"rstd", rstd, rb}});
        kiln::check_outputs_apart(op, {{"dgamma", dgamma, cb}, {"dbeta", dbeta, cb}}, {{"x", x, xb}, {"dy", dy, xb},
                                  {"gamma", gamma, cb}, {"mean", mean, rb}, {"rstd", rstd, rb}, {"dx", dx, xb}});
        // With rows == 0 only dgamma/dbeta have elements, and they still need their zeros written.
        if (cols == 0 || (rows == 0 && !dgamma && !dbeta)) return;
        kiln::dispatch(cx, op, KILN_BACKENDS(layer_norm_backward_f32), x, dy, gamma, mean, rstd, dx, dgamma, dbeta,
                       rows, cols);
    });
}

}  // extern "C"

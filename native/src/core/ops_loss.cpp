// C ABI entries for the losses: validation, then the backend of the context's device. Losses and dloss are 1-element
// buffers on the context's device; nothing here reads them (the backward kernels read dloss[0] themselves).
#include "core/checked.h"
#include "core/dispatch.h"
#include "loss.h"

using kiln::fail;

namespace {

// rows >= 0, cols >= 1; returns rows * cols.
int64_t checked_rows_cols(const char* op, int64_t rows, int64_t cols) {
    if (cols < 1)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'cols' must be >= 1, got %lld (rows=%lld)", op, (long long)cols,
             (long long)rows);
    return kiln::checked_product(op, "logits", {{"rows", rows}, {"cols", cols}});
}

// BCE with logits and MSE share their signatures: loss (1) = mean of term(x (n), t (n)), and its backward.
template <class Backends>
kiln_status pointwise_loss(const char* op, Backends backends, kiln_context* ctx, const float* x, const float* t,
                           float* loss, int64_t n) {
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        kiln::checked_product(op, "x", {{"n", n}});
        kiln::require_all(op, {{x, n, "x"}, {t, n, "t"}, {loss, 1, "loss"}});
        kiln::check_outputs_apart(op, {{"loss", loss, 4}}, {{"x", x, n * 4}, {"t", t, n * 4}});
        kiln::dispatch(c, op, backends, x, t, loss, n);
    });
}

template <class Backends>
kiln_status pointwise_loss_backward(const char* op, Backends backends, kiln_context* ctx, const float* x,
                                    const float* t, const float* dloss, float* dx, int64_t n) {
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        kiln::checked_product(op, "x", {{"n", n}});
        if (!dx) return;  // gradient not wanted (ops: conventions)
        kiln::require_all(op, {{x, n, "x"}, {t, n, "t"}, {dloss, n > 0 ? 1 : 0, "dloss"}});
        kiln::check_outputs_apart(op, {{"dx", dx, n * 4}}, {{"x", x, n * 4}, {"t", t, n * 4}, {"dloss", dloss, 4}});
        if (n == 0) return;  // nothing to write, and dloss may then be NULL: the backends read dloss[0] first
        kiln::dispatch(c, op, backends, x, t, dloss, dx, n);
    });
}

}  // namespace

extern "C" {

kiln_status kiln_cross_entropy_f32(kiln_context* ctx, const float* logits, const int32_t* labels, float* loss,
                                   float* lse, int64_t rows, int64_t cols) {
    const char* op = "kiln_cross_entropy_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t n = checked_rows_cols(op, rows, cols);
        kiln::require_all(op, {{logits, n, "logits"}, {labels, rows, "labels"}, {loss, 1, "loss"},
                               {lse, rows, "lse"}});
        kiln::check_outputs_apart(op, {{"loss", loss, 4}, {"lse", lse, rows * 4}},
                                  {{"logits", logits, n * 4}, {"labels", labels, rows * 4}});
        kiln::dispatch(c, op, KILN_BACKENDS(cross_entropy_f32), logits, labels, loss, lse, rows, cols);
    });
}

kiln_status kiln_cross_entropy_backward_f32(kiln_context* ctx, const float* logits, const int32_t* labels,
                                            const float* lse, const float* dloss, float* dlogits, int64_t rows,
                                            int64_t cols) {
    const char* op = "kiln_cross_entropy_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t n = checked_rows_cols(op, rows, cols);
        if (!dlogits) return;  // gradient not wanted (ops: conventions)
        kiln::require_all(op, {{logits, n, "logits"}, {labels, rows, "labels"}, {lse, rows, "lse"},
                               {dloss, n > 0 ? 1 : 0, "dloss"}});
        kiln::check_outputs_apart(op, {{"dlogits", dlogits, n * 4}}, {{"logits", logits, n * 4},
                                  {"labels", labels, rows * 4}, {"lse", lse, rows * 4}, {"dloss", dloss, 4}});
        if (n == 0) return;  // as in pointwise_loss_backward: dloss may be NULL
        kiln::dispatch(c, op, KILN_BACKENDS(cross_entropy_backward_f32), logits, labels, lse, dloss, dlogits, rows,
                       cols);
    });
}

kiln_status kiln_bce_with_logits_f32(kiln_context* ctx, const float* x, const float* t, float* loss, int64_t n) {
    return pointwise_loss("kiln_bce_with_logits_f32", KILN_BACKENDS(bce_with_logits_f32), ctx, x, t, loss, n);
}

kiln_status kiln_bce_with_logits_backward_f32(kiln_context* ctx, const float* x, const float* t, const float* dloss,
                                              float* dx, int64_t n) {
    return pointwise_loss_backward("kiln_bce_with_logits_backward_f32", KILN_BACKENDS(bce_with_logits_backward_f32),
                                   ctx, x, t, dloss, dx, n);
}

kiln_status kiln_mse_f32(kiln_context* ctx, const float* x, const float* t, float* loss, int64_t n) {
    return pointwise_loss("kiln_mse_f32", KILN_BACKENDS(mse_f32), ctx, x, t, loss, n);
}

kiln_status kiln_mse_backward_f32(kiln_context* ctx, const float* x, const float* t, const float* dloss, float* dx,
                                  int64_t n) {
    return pointwise_loss_backward("kiln_mse_backward_f32", KILN_BACKENDS(mse_backward_f32), ctx, x, t, dloss, dx, n);
}

}  // extern "C"

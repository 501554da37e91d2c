// C ABI entries for batch norm (training forward, evaluation forward, training and evaluation backward): validates
// sizes, eps, momentum and pointers, then runs the backend of the context's device.
#include <cmath>

#include "batchnorm.h"
#include "core/checked.h"
#include "core/dispatch.h"

using kiln::fail;

namespace {

struct Sizes {
    int64_t m;      // elements per channel: n * hw
    int64_t total;  // n * c * hw
};

// x is (n, c, hw): every size >= 0 and the element count fits int64. `training` needs n * hw >= 1 for c > 0: batch
// statistics of an empty channel do not exist.
Sizes check_sizes(const char* op, int64_t n, int64_t c, int64_t hw, bool training) {
    if (n < 0 || c < 0 || hw < 0)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: needs n, c, hw >= 0, got n=%lld c=%lld hw=%lld", op, (long long)n,
             (long long)c, (long long)hw);
    Sizes s;
    s.total = kiln::checked_product(op, "x", {{"n", n}, {"c", c}, {"hw", hw}});
    // The per-channel tensors have c elements even when x has none (n * hw == 0), so c is checked on its own.
    kiln::checked_product(op, "the per-channel tensors", {{"c", c}});
    s.m = kiln::checked_product(op, "one channel of x", {{"n", n}, {"hw", hw}});
    if (training && c > 0 && s.m == 0)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: batch statistics need n * hw >= 1 values per channel, got n=%lld hw=%lld (c=%lld)", op, (long long)n,
             (long long)hw, (long long)c);
    return s;
}

void check_eps(const char* op, float eps) {
    if (!(eps > 0.0f) || !std::isfinite(eps))  // also refuses NaN
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'eps' must be a finite value > 0, got %g", op, (double)eps);
}

}  // namespace

extern "C" {

kiln_status kiln_batch_norm_train_f32(kiln_context* ctx, int64_t n, int64_t c, int64_t hw, const float* x,
                                      const float* gamma, const float* beta, float* y, float* save_mean,
                                      float* save_invstd, float* running_mean, float* running_var, float momentum,
                                      float eps) {
    const char* op = "kiln_batch_norm_train_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        const Sizes s = check_sizes(op, n, c, hw, true);
        check_eps(op, eps);
        if (!(momentum >= 0.0f && momentum <= 1.0f))
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'momentum' must be in [0, 1], got %g", op, (double)momentum);
        kiln::require_all(op, {{x, s.total, "x"}, {y, s.total, "y"}, {save_mean, c, "save_mean"},
                               {save_invstd, c, "save_invstd"}});
        const int64_t xb = s.total * 4, cb = c * 4;
        kiln::check_outputs_apart(op, {{"y", y, xb}, {"save_mean", save_mean, cb}, {"save_invstd", save_invstd, cb},
                                       {"running_mean", running_mean, cb}, {"running_var", running_var, cb}},
                                  {{"x", x, xb}, {"gamma", gamma, cb}, {"beta", beta, cb}});
        if (c == 0) return;
        kiln::dispatch(cx, op, KILN_BACKENDS(batch_norm_train_f32), n, c, hw, x, gamma, beta, y, save_mean, save_invstd,
                       running_mean, running_var, momentum, eps);
    });
}

kiln_status kiln_batch_norm_eval_f32(kiln_context* ctx, int64_t n, int64_t c, int64_t hw, const float* x,
                                     const float* gamma, const float* beta, const float* running_mean,
                                     const float* running_var, float eps, float* y) {
    const char* op = "kiln_batch_norm_eval_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        const Sizes s = check_sizes(op, n, c, hw, false);
        check_eps(op, eps);
        kiln::require_all(op, {{x, s.total, "x"}, {y, s.total, "y"}, {running_mean, c, "running_mean"},
                               {running_var, c, "running_var"}});
        const int64_t cb = c * 4;
        kiln::check_outputs_apart(op, {{"y", y, s.total * 4}},
                                  {{"x", x, s.total * 4}, {"gamma", gamma, cb}, {"beta", beta, cb},
                                   {"running_mean", running_mean, cb}, {"running_var", running_var, cb}});
        if (s.total == 0) return;
        kiln::dispatch(cx, op, KILN_BACKENDS(batch_norm_eval_f32), n, c, hw, x, gamma, beta, running_mean, running_var,
                       eps, y);
    });
}

kiln_status kiln_batch_norm_backward_f32(kiln_context* ctx, int64_t n, int64_t c, int64_t hw, const float* x,
                                         const float* dy, const float* gamma, const float* save_mean,
                                         const float* save_invstd, float* dx, float* dgamma, float* dbeta) {
    const char* op = "kiln_batch_norm_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        const Sizes s = check_sizes(op, n, c, hw, true);
        if (!dx && !dgamma && !dbeta) return;  // no gradient wanted (ops: conventions)
        kiln::require_all(op, {{x, s.total, "x"}, {dy, s.total, "dy"}, {save_mean, c, "save_mean"},
                               {save_invstd, c, "save_invstd"}});
        const int64_t xb = s.total * 4, cb = c * 4;
        kiln::check_outputs_apart(op, {{"dx", dx, xb}, {"dgamma", dgamma, cb}, {"dbeta", dbeta, cb}},
                                  {{"x", x, xb}, {"dy", dy, xb}, {"gamma", gamma, cb}, {"save_mean", save_mean, cb},
                                   {"save_invstd", save_invstd, cb}});
        if (c == 0) return;
        kiln::dispatch(cx, op, KILN_BACKENDS(batch_norm_backward_f32), n, c, hw, x, dy, gamma, save_mean, save_invstd,
                       dx, dgamma, dbeta);
    });
}

kiln_status kiln_batch_norm_backward_eval_f32(kiln_context* ctx, int64_t n, int64_t c, int64_t hw, const float* x,
                                              const float* dy, const float* gamma, const float* running_mean,
                                              const float* running_var, float eps, float* dx, float* dgamma,
                                              float* dbeta) {
    const char* op = "kiln_batch_norm_backward_eval_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        // Not `training`: the statistics are given, so an empty batch is valid here (dgamma = dbeta = 0), as in eval.
        const Sizes s = check_sizes(op, n, c, hw, false);
        check_eps(op, eps);
        if (!dx && !dgamma && !dbeta) return;  // no gradient wanted (ops: conventions)
        kiln::require_all(op, {{x, s.total, "x"}, {dy, s.total, "dy"}, {running_mean, c, "running_mean"},
                               {running_var, c, "running_var"}});
        const int64_t xb = s.total * 4, cb = c * 4;
        kiln::check_same_or_disjoint(op, "dx", dx, xb, "x", x, xb);
        kiln::check_same_or_disjoint(op, "dx", dx, xb, "dy", dy, xb);
        kiln::check_outputs_apart(op, {{"dx", dx, xb}}, {{"gamma", gamma, cb}, {"running_mean", running_mean, cb},
                                  {"running_var", running_var, cb}});
        kiln::check_outputs_apart(op, {{"dgamma", dgamma, cb}, {"dbeta", dbeta, cb}},
                                  {{"x", x, xb}, {"dy", dy, xb}, {"gamma", gamma, cb},
                                   {"running_mean", running_mean, cb}, {"running_var", running_var, cb}, {"dx", dx, xb}});
        // With n * hw == 0 only dgamma/dbeta have elements, and they still need their zeros written.
        if (c == 0 || (s.m == 0 && !dgamma && !dbeta)) return;
        kiln::dispatch(cx, op, KILN_BACKENDS(batch_norm_backward_eval_f32), n, c, hw, x, dy, gamma, running_mean,
                       running_var, eps, dx, dgamma, dbeta);
    });
}

}  // extern "C"

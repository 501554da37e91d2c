// C ABI entries for the optimizer steps (SGD with momentum, Adam/AdamW, and Adam's capturable form for CUDA graphs):
// validation, then the backend of the context's device.
#include <cmath>
#include <utility>

#include "core/checked.h"
#include "core/dispatch.h"
#include "optim.h"

using kiln::fail;

namespace {

void check_finite(const char* op, const char* arg, float value) {
    if (!std::isfinite(value)) fail(KILN_ERR_INVALID_ARGUMENT, "%s: '%s' must be finite, got %g", op, arg, value);
}

// The state buffers are updated in one pass with restrict pointers: a shared buffer, even one overlapping only in
// part (grad = param + 1), would be a caller bug that silently corrupts the step.
void check_distinct(const char* op, int64_t n, const char* name_a, const void* a, const char* name_b, const void* b) {
    const int64_t bytes = kiln::checked_bytes(op, name_a, n, (int64_t)sizeof(float));
    kiln::check_disjoint(op, name_a, a, bytes, name_b, b, bytes);
}

void check_betas(const char* op, float beta1, float beta2) {
    if (!(beta1 >= 0.0f && beta1 < 1.0f) || !(beta2 >= 0.0f && beta2 < 1.0f))
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: 'beta1' and 'beta2' must be in [0, 1), got beta1=%g beta2=%g", op, beta1,
             beta2);
}

// What both Adam steps check: sizes, hyperparameters, and four distinct state buffers of n elements.
void check_adam(const char* op, const float* param, const float* grad, const float* m, const float* v, int64_t n,
                float lr, float beta1, float beta2, float eps, float weight_decay) {
    kiln::checked_product(op, "param", {{"n", n}});
    check_finite(op, "lr", lr);
    check_finite(op, "weight_decay", weight_decay);
    check_betas(op, beta1, beta2);
    if (!(eps >= 0.0f && std::isfinite(eps)))
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: 'eps' must be finite and >= 0, got %g", op, eps);
    kiln::require_all(op, {{param, n, "param"}, {grad, n, "grad"}, {m, n, "m"}, {v, n, "v"}});
    const void* bufs[4] = {param, grad, m, v};
    const char* names[4] = {"param", "grad", "m", "v"};
    for (int i = 0; i < 4; ++i)
        for (int j = i + 1; j < 4; ++j) check_distinct(op, n, names[i], bufs[i], names[j], bufs[j]);
}

}  // namespace

extern "C" {

kiln_status kiln_sgd_step_f32(kiln_context* ctx, float* param, const float* grad, float* velocity, int64_t n, float lr,
                              float momentum, float weight_decay, int32_t nesterov) {
    const char* op = "kiln_sgd_step_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        kiln::checked_product(op, "param", {{"n", n}});
        check_finite(op, "lr", lr);
        check_finite(op, "weight_decay", weight_decay);
        if (!(momentum >= 0.0f && std::isfinite(momentum)))
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: 'momentum' must be finite and >= 0, got %g", op, momentum);
        kiln::require_all(op, {{param, n, "param"}, {grad, n, "grad"}});
        if (momentum != 0.0f && !velocity && n > 0)
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'velocity' is null, but momentum=%g needs it", op, momentum);
        check_distinct(op, n, "param", param, "grad", grad);
        check_distinct(op, n, "param", param, "velocity", velocity);
        check_distinct(op, n, "grad", grad, "velocity", velocity);
        // With momentum 0 the velocity is not kept (kiln.h: it may be NULL then), so the plain step runs either way.
        float* vel = momentum != 0.0f ? velocity : nullptr;
        kiln::dispatch(c, op, KILN_BACKENDS(sgd_step_f32), param, grad, vel, n, lr, momentum, weight_decay,
                       nesterov != 0);
    });
}

kiln_status kiln_adam_step_f32(kiln_context* ctx, float* param, const float* grad, float* m, float* v, int64_t n,
                               float lr, float beta1, float beta2, float eps, float weight_decay, int32_t decoupled,
                               float bias_correction1, float bias_correction2) {
    const char* op = "kiln_adam_step_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        check_adam(op, param, grad, m, v, n, lr, beta1, beta2, eps, weight_decay);
        // 1 - beta^step for step >= 1 lies in (0, 1].
        const bool bc1_ok = bias_correction1 > 0.0f && bias_correction1 <= 1.0f;
        const bool bc2_ok = bias_correction2 > 0.0f && bias_correction2 <= 1.0f;
        if (!bc1_ok || !bc2_ok)
            fail(KILN_ERR_INVALID_ARGUMENT,
                 "%s: bias corrections (1 - beta^step) must be in (0, 1], got bias_correction1=%g bias_correction2=%g",
                 op, bias_correction1, bias_correction2);
        kiln::dispatch(c, op, KILN_BACKENDS(adam_step_f32), param, grad, m, v, n, lr, beta1, beta2, eps, weight_decay,
                       decoupled != 0, bias_correction1, bias_correction2);
    });
}

kiln_status kiln_adam_advance_step(kiln_context* ctx, int32_t* step, float* bias_corrections, float beta1,
                                   float beta2) {
    const char* op = "kiln_adam_advance_step";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        check_betas(op, beta1, beta2);
        kiln::require_all(op, {{step, 1, "step"}, {bias_corrections, 2, "bias_corrections"}});
        kiln::check_disjoint(op, "step", step, sizeof(int32_t), "bias_corrections", bias_corrections, 2 * sizeof(float));
        kiln::dispatch(c, op, KILN_BACKENDS(adam_advance_step), step, bias_corrections, beta1, beta2);
    });
}

kiln_status kiln_adam_step_capturable_f32(kiln_context* ctx, float* param, const float* grad, float* m, float* v,
                                          int64_t n, float lr, float beta1, float beta2, float eps, float weight_decay,
                                          int32_t decoupled, const float* bias_corrections) {
    const char* op = "kiln_adam_step_capturable_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        check_adam(op, param, grad, m, v, n, lr, beta1, beta2, eps, weight_decay);
        // The corrections are on the device: their range is kiln_adam_advance_step's to keep, not checked here.
        kiln::require_all(op, {{bias_corrections, 2, "bias_corrections"}});
        // Every element's update reads the corrections: an update landing on them would change the later ones'.
        const int64_t bytes = n * (int64_t)sizeof(float);  // n was checked by check_adam
        for (const auto& [name, buf] : {std::pair<const char*, const void*>{"param", param}, {"m", m}, {"v", v}})
            kiln::check_disjoint(op, name, buf, bytes, "bias_corrections", bias_corrections, 2 * sizeof(float));
        kiln::dispatch(c, op, KILN_BACKENDS(adam_step_capturable_f32), param, grad, m, v, n, lr, beta1, beta2, eps,
                       weight_decay, decoupled != 0, bias_corrections);
    });
}

}  // extern "C"

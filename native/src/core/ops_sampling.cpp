// C ABI entries for the sampling family (reparameterization and the Gaussian KL term): validation, then the backend
// of the context's device.
#include "common/entry_backends.h"
#include "core/checked.h"
#include "core/dispatch.h"

// The backends take their entries' arguments (kernels/common/entry_backends.h): native/src/cpu/sampling.cpp and
// kernels/sampling.cu define them.
KILN_ENTRY_BACKENDS(reparameterize_f32);
KILN_ENTRY_BACKENDS(reparameterize_backward_f32);
KILN_ENTRY_BACKENDS(gaussian_kl_f32);
KILN_ENTRY_BACKENDS(gaussian_kl_backward_f32);

extern "C" {

kiln_status kiln_reparameterize_f32(kiln_context* ctx, const float* mu, const float* logvar, float* z, int64_t n,
                                    uint64_t seed, uint64_t offset) {
    const char* op = "kiln_reparameterize_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        kiln::refuse_while_capturing(cx, op, "draws eps from a Philox stream whose (seed, offset) would be frozen "
                                     "into the graph", "sample outside the captured step");
        kiln::checked_product(op, "mu", {{"n", n}});
        kiln::require_all(op, {{mu, n, "mu"}, {logvar, n, "logvar"}, {z, n, "z"}});
        if (n == 0) return;
        kiln::check_same_or_disjoint(op, "z", z, n * 4, "mu", mu, n * 4);
        kiln::check_same_or_disjoint(op, "z", z, n * 4, "logvar", logvar, n * 4);
        kiln::dispatch(cx, op, KILN_BACKENDS(reparameterize_f32), mu, logvar, z, n, seed, offset);
    });
}

kiln_status kiln_reparameterize_backward_f32(kiln_context* ctx, const float* logvar, const float* dz, float* dmu,
                                             float* dlogvar, int64_t n, uint64_t seed, uint64_t offset) {
    const char* op = "kiln_reparameterize_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        kiln::refuse_while_capturing(cx, op, "draws eps from a Philox stream whose (seed, offset) would be frozen "
                                     "into the graph", "sample outside the captured step");
        kiln::checked_product(op, "dz", {{"n", n}});
        kiln::require_all(op, {{logvar, n, "logvar"}, {dz, n, "dz"}});
        kiln::check_outputs_apart(op, {{"dmu", dmu, n * 4}, {"dlogvar", dlogvar, n * 4}},
                                  {{"logvar", logvar, n * 4}, {"dz", dz, n * 4}});
        if (n == 0 || (!dmu && !dlogvar)) return;  // nothing wanted (ops: conventions)
        kiln::dispatch(cx, op, KILN_BACKENDS(reparameterize_backward_f32), logvar, dz, dmu, dlogvar, n, seed, offset);
    });
}

kiln_status kiln_gaussian_kl_f32(kiln_context* ctx, const float* mu, const float* logvar, float* loss, int64_t batch,
                                 int64_t dim) {
    const char* op = "kiln_gaussian_kl_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        const int64_t n = kiln::checked_product(op, "mu", {{"batch", batch}, {"dim", dim}});
        kiln::require_all(op, {{mu, n, "mu"}, {logvar, n, "logvar"}, {loss, 1, "loss"}});
        kiln::check_outputs_apart(op, {{"loss", loss, 4}}, {{"mu", mu, n * 4}, {"logvar", logvar, n * 4}});
        kiln::dispatch(cx, op, KILN_BACKENDS(gaussian_kl_f32), mu, logvar, loss, batch, dim);
    });
}

kiln_status kiln_gaussian_kl_backward_f32(kiln_context* ctx, const float* mu, const float* logvar, const float* dloss,
                                          float* dmu, float* dlogvar, int64_t batch, int64_t dim) {
    const char* op = "kiln_gaussian_kl_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        const int64_t n = kiln::checked_product(op, "mu", {{"batch", batch}, {"dim", dim}});
        kiln::require_all(op, {{mu, n, "mu"}, {logvar, n, "logvar"}, {dloss, 1, "dloss"}});
        kiln::check_outputs_apart(op, {{"dmu", dmu, n * 4}, {"dlogvar", dlogvar, n * 4}},
                                  {{"mu", mu, n * 4}, {"logvar", logvar, n * 4}, {"dloss", dloss, 4}});
        if (n == 0 || (!dmu && !dlogvar)) return;
        kiln::dispatch(cx, op, KILN_BACKENDS(gaussian_kl_backward_f32), mu, logvar, dloss, dmu, dlogvar, batch, dim);
    });
}

}  // extern "C"

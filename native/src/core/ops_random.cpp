// C ABI entries for the Philox random streams and dropout: validation, then the backend of the context's device.
#include <cmath>

#include "core/checked.h"
#include "core/dispatch.h"
#include "random.h"

using kiln::fail;

namespace {

// (seed, offset) are kernel arguments: a graph would replay the same numbers every time.
void refuse_frozen_stream(kiln_context& c, const char* op) {
    kiln::refuse_while_capturing(c, op, "draws from a Philox stream whose (seed, offset) would be frozen into the graph",
                                 "draw random numbers outside the captured step");
}

// Dropout forward and backward are one op (the backward applies the forward's mask to dy), so they share a body.
kiln_status dropout_entry(const char* op, const char* in_name, const char* out_name, kiln_context* ctx,
                          const float* in, float* out, int64_t n, float p, uint64_t seed, uint64_t offset) {
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        refuse_frozen_stream(c, op);
        kiln::checked_product(op, in_name, {{"n", n}});
        if (!(p >= 0.0f && p < 1.0f)) fail(KILN_ERR_INVALID_ARGUMENT, "%s: 'p' must be in [0, 1), got %g", op, p);
        kiln::require_data(in, (size_t)n, op, in_name);
        kiln::require_data(out, (size_t)n, op, out_name);
        kiln::check_same_or_disjoint(op, out_name, out, n * 4, in_name, in, n * 4);  // each element read, then written
        kiln::dispatch(c, op, KILN_BACKENDS(dropout_f32), in, out, n, p, seed, offset);
    });
}

// The Philox streams fill y (n) and differ only in their distribution's parameters, which run() checks.
template <class Run>
kiln_status random_entry(const char* op, kiln_context* ctx, float* y, size_t n, Run&& run) {
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        refuse_frozen_stream(c, op);
        kiln::checked_count(op, "y", "n", n);
        kiln::require_data(y, n, op, "y");
        run(c);
    });
}

}  // namespace

extern "C" {

kiln_status kiln_rand_uniform_f32(kiln_context* ctx, float* y, size_t n, uint64_t seed, uint64_t offset, float lo,
                                  float hi) {
    const char* op = "kiln_rand_uniform_f32";
    return random_entry(op, ctx, y, n, [&](kiln_context& c) {
        if (!(lo < hi)) fail(KILN_ERR_INVALID_ARGUMENT, "%s: needs lo < hi, got lo=%g hi=%g", op, lo, hi);
        // The draw is lo + u (hi - lo): with an infinite bound, or a width past FLT_MAX, every element came out lo.
        if (!std::isfinite(hi - lo)) {
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: needs finite lo and hi less than FLT_MAX apart, got lo=%g hi=%g", op, lo, hi);
        }
        kiln::dispatch(c, op, KILN_BACKENDS(rand_uniform_f32), y, n, seed, offset, lo, hi);
    });
}

kiln_status kiln_rand_normal_f32(kiln_context* ctx, float* y, size_t n, uint64_t seed, uint64_t offset, float mean,
                                 float std) {
    const char* op = "kiln_rand_normal_f32";
    return random_entry(op, ctx, y, n, [&](kiln_context& c) {
        if (!(std >= 0.0f) || !std::isfinite(std) || !std::isfinite(mean)) {
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: needs a finite mean and a finite std >= 0, got mean=%g std=%g", op, mean, std);
        }
        kiln::dispatch(c, op, KILN_BACKENDS(rand_normal_f32), y, n, seed, offset, mean, std);
    });
}

kiln_status kiln_dropout_f32(kiln_context* ctx, const float* x, float* y, int64_t n, float p, uint64_t seed,
                             uint64_t offset) {
    return dropout_entry("kiln_dropout_f32", "x", "y", ctx, x, y, n, p, seed, offset);
}

kiln_status kiln_dropout_backward_f32(kiln_context* ctx, const float* dy, float* dx, int64_t n, float p, uint64_t seed,
                                      uint64_t offset) {
    return dropout_entry("kiln_dropout_backward_f32", "dy", "dx", ctx, dy, dx, n, p, seed, offset);
}

}  // extern "C"

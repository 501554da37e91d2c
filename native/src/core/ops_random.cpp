// C ABI entries for the Philox random streams and dropout: validation, then the backend of the context's device.
#include "core/context.h"
#include "core/gpu.h"
#include "cpu/random.h"
#if KILN_WITH_CUDA
#include "random.h"
#endif

using kiln::fail;

namespace {

// Dropout forward and backward are one op (the backward applies the forward's mask to dy), so they share a body.
kiln_status dropout_entry(const char* op, const char* in_name, const char* out_name, kiln_context* ctx,
                          const float* in, float* out, int64_t n, float p, uint64_t seed, uint64_t offset) {
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        if (n < 0) fail(KILN_ERR_INVALID_ARGUMENT, "%s: 'n' must be >= 0, got %lld", op, (long long)n);
        if (!(p >= 0.0f && p < 1.0f)) fail(KILN_ERR_INVALID_ARGUMENT, "%s: 'p' must be in [0, 1), got %g", op, p);
        kiln::require_data(in, (size_t)n, op, in_name);
        kiln::require_data(out, (size_t)n, op, out_name);
        if (kiln::on_cpu(c)) return kiln::cpu::dropout_f32(in, out, n, p, seed, offset);
        KILN_CUDA_RUN(op, kiln::cuda::dropout_f32(KILN_STREAM(c), in, out, n, p, seed, offset));
    });
}

}  // namespace

extern "C" {

kiln_status kiln_rand_uniform_f32(kiln_context* ctx, float* y, size_t n, uint64_t seed, uint64_t offset, float lo,
                                  float hi) {
    const char* op = "kiln_rand_uniform_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        kiln::require_data(y, n, op, "y");
        if (!(lo < hi)) fail(KILN_ERR_INVALID_ARGUMENT, "%s: needs lo < hi, got lo=%g hi=%g", op, lo, hi);
        if (kiln::on_cpu(c)) return kiln::cpu::rand_uniform_f32(y, n, seed, offset, lo, hi);
        KILN_CUDA_RUN(op, kiln::cuda::rand_uniform_f32(KILN_STREAM(c), y, n, seed, offset, lo, hi));
    });
}

kiln_status kiln_rand_normal_f32(kiln_context* ctx, float* y, size_t n, uint64_t seed, uint64_t offset, float mean,
                                 float std) {
    const char* op = "kiln_rand_normal_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        kiln::require_data(y, n, op, "y");
        if (!(std >= 0.0f)) fail(KILN_ERR_INVALID_ARGUMENT, "%s: needs std >= 0, got %g", op, std);
        if (kiln::on_cpu(c)) return kiln::cpu::rand_normal_f32(y, n, seed, offset, mean, std);
        KILN_CUDA_RUN(op, kiln::cuda::rand_normal_f32(KILN_STREAM(c), y, n, seed, offset, mean, std));
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

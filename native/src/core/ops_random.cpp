// C ABI entries for the Philox random streams: validation, then the backend of the context's device.
#include "core/context.h"
#include "core/gpu.h"
#include "cpu/random.h"
#if KILN_WITH_CUDA
#include "random.h"
#endif

using kiln::fail;

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

}  // extern "C"

// C ABI entries for elementwise ops: validation, then the backend of the context's device.
#include "core/context.h"
#include "core/gpu.h"
#include "cpu/elementwise.h"
#if KILN_WITH_CUDA
#include "elementwise.h"
#endif

using kiln::fail;

extern "C" {

kiln_status kiln_fill_f32(kiln_context* ctx, float* y, size_t n, float value) {
    const char* op = "kiln_fill_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        kiln::require_data(y, n, op, "y");
        if (kiln::on_cpu(c)) return kiln::cpu::fill_f32(y, n, value);
        KILN_CUDA_RUN(op, kiln::cuda::fill_f32(KILN_STREAM(c), y, n, value));
    });
}

}  // extern "C"

// C ABI entries of the bf16 conversion family (fp32 <-> bf16): validation, then the backend of the context's device.
#include "convert.h"
#include "core/checked.h"
#include "core/dispatch.h"

extern "C" {

// The two element sizes differ, so an overlap cannot be in place: y would overwrite x's elements before they are read.
kiln_status kiln_convert_f32_to_bf16(kiln_context* ctx, const float* x, kiln_bf16* y, int64_t n) {
    const char* op = "kiln_convert_f32_to_bf16";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        kiln::checked_product(op, "x", {{"n", n}});
        kiln::require_all(op, {{x, n, "x"}, {y, n, "y"}});
        kiln::check_outputs_apart(op, {{"y", y, n * 2}}, {{"x", x, n * 4}});
        if (n == 0) return;
        kiln::dispatch(cx, op, KILN_BACKENDS(convert_f32_to_bf16), x, y, n);
    });
}

kiln_status kiln_convert_bf16_to_f32(kiln_context* ctx, const kiln_bf16* x, float* y, int64_t n) {
    const char* op = "kiln_convert_bf16_to_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        kiln::checked_product(op, "x", {{"n", n}});
        kiln::require_all(op, {{x, n, "x"}, {y, n, "y"}});
        kiln::check_outputs_apart(op, {{"y", y, n * 4}}, {{"x", x, n * 2}});
        if (n == 0) return;
        kiln::dispatch(cx, op, KILN_BACKENDS(convert_bf16_to_f32), x, y, n);
    });
}

}  // extern "C"

// C ABI entry for the transpose family (two axes of a dense tensor exchanged): validation, then the backend of the
// context's device.
#include "common/entry_backends.h"
#include "core/checked.h"
#include "core/dispatch.h"

// The backends take the entry's arguments (kernels/common/entry_backends.h): native/src/cpu/transpose.cpp and
// kernels/transpose.cu define them.
KILN_ENTRY_BACKENDS(transpose_f32);

extern "C" {

kiln_status kiln_transpose_f32(kiln_context* ctx, const float* x, float* y, int64_t outer, int64_t rows, int64_t mid,
                               int64_t cols, int64_t inner) {
    const char* op = "kiln_transpose_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        const int64_t n = kiln::checked_product(
            op, "x", {{"outer", outer}, {"rows", rows}, {"mid", mid}, {"cols", cols}, {"inner", inner}});
        kiln::require_all(op, {{x, n, "x"}, {y, n, "y"}});
        kiln::check_outputs_apart(op, {{"y", y, n * 4}}, {{"x", x, n * 4}});
        if (n == 0) return;
        kiln::dispatch(cx, op, KILN_BACKENDS(transpose_f32), x, y, outer, rows, mid, cols, inner);
    });
}

}  // extern "C"

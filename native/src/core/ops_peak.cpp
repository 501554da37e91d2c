// C ABI entry of the device-peak family: the measured roofline of the context's device.
#include "core/dispatch.h"
#include "peak.h"

extern "C" {

kiln_status kiln_measure_peak(kiln_context* ctx, kiln_device_peak* out) {
    const char* op = "kiln_measure_peak";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        kiln::refuse_while_capturing(cx, op, "times its kernels with events it waits for", "measure outside a capture");
        if (!out) kiln::fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'out' is null", op);
        *out = kiln_device_peak{0.0, 0.0};
        kiln::dispatch(cx, op, KILN_BACKENDS(measure_peak), out);  // the CUDA launcher waits for its own events
    });
}

}  // extern "C"

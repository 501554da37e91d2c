// check_window_axis (core/window.h): the window rules shared by the conv and pool descriptors.
#include "core/window.h"

#include "core/error.h"

namespace kiln {

void check_window_axis(const char* op, const WindowAxis& a) {
    // The upper bound keeps in + 2 pad (pad < 2^31) and the dilated window (< 2^62) from overflowing below.
    if (a.in < 1 || a.in > (INT64_C(1) << 62))
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc.%s' must be in [1, 2^62], got %lld", op, a.in_name,
             (long long)a.in);
    if (a.window < 1 || a.window > (INT64_C(1) << 31))
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc.%s' must be in [1, 2^31], got %lld", op, a.window_name,
             (long long)a.window);
    if (a.stride < 1)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc.stride_%s' must be >= 1, got %d", op, a.axis,
             (int)a.stride);
    if (a.dilation < 1)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc.dilation_%s' must be >= 1, got %d", op, a.axis,
             (int)a.dilation);
    if (a.pad_at_most_half_window && (a.pad < 0 || 2 * (int64_t)a.pad > a.window))
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc.pad_%s' must be in [0, %s / 2] = [0, %lld], got %d", op,
             a.axis, a.window_name, (long long)(a.window / 2), (int)a.pad);
    if (a.pad < 0)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc.pad_%s' must be >= 0, got %d", op, a.axis, (int)a.pad);
    const int64_t padded = a.in + 2 * (int64_t)a.pad;
    const int64_t span = (int64_t)a.dilation * (a.window - 1) + 1;
    if (padded < span)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: the window does not fit along %s: dilation_%s*(%s-1)+1 = %d*(%lld-1)+1 = %lld taps is larger than "
             "the padded input %s + 2*pad_%s = %lld + 2*%d = %lld",
             op, a.axis, a.axis, a.window_name, (int)a.dilation, (long long)a.window, (long long)span, a.in_name,
             a.axis, (long long)a.in, (int)a.pad, (long long)padded);
    const int64_t want = (padded - span) / a.stride + 1;
    if (a.out != want)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: argument 'desc.%s' is %lld but expected %lld = (%s + 2*pad_%s - dilation_%s*(%s-1) - 1) / "
             "stride_%s + 1 = (%lld + 2*%d - %d*(%lld-1) - 1) / %d + 1 = %lld",
             op, a.out_name, (long long)a.out, (long long)want, a.in_name, a.axis, a.axis, a.window_name, a.axis,
             (long long)a.in, (int)a.pad, (int)a.dilation, (long long)a.window, (int)a.stride, (long long)want);
}

}  // namespace kiln

// The one check of a sliding window along one spatial axis (convolution, pooling, and attention's windows to come):
// stride, dilation and padding in range, the window inside the padded input, and the descriptor's output extent
// equal to the floor formula. Messages name the op, the descriptor field, the sizes and the formula.
#pragma once

#include <cstdint>

namespace kiln {

// One axis of x (.., in) -> y (.., out) under a window of `window` taps. Names are the descriptor's fields, e.g. for
// conv along h: axis "h", in_name "h", window_name "r", out_name "p" (stride_h, pad_h, dilation_h follow from axis).
struct WindowAxis {
    const char* axis;
    const char* in_name;
    const char* window_name;
    const char* out_name;
    int64_t in, window;
    int32_t stride, pad, dilation;
    int64_t out;
    // Pooling keeps pad <= window / 2, so every window holds a real element (max has a winner, avg a divisor).
    bool pad_at_most_half_window;
};

// Fails with KILN_ERR_INVALID_ARGUMENT unless in is in [1, 2^62], window >= 1, stride >= 1, dilation >= 1,
// pad >= 0 (<= window / 2 where asked), the dilated window fits the padded input, and
// out == (in + 2 pad - dilation (window - 1) - 1) / stride + 1.
void check_window_axis(const char* op, const WindowAxis& a);

}  // namespace kiln

/* C wrappers that pass any int where kiln.h takes an enum, as a caller in C, Java or another language may: the
 * fuzzer's C caller of the ABI (kiln.h's enums have a fixed int32 type in C++, so the C++ side could pass them too). */
#include <stdint.h>

#include "enum_shim.h"
#include "kiln/kiln.h"

kiln_status fuzz_context_create(int32_t kind, int32_t index, kiln_context** out) {
    return kiln_context_create((kiln_device_kind)kind, index, out);
}

kiln_status fuzz_device_properties(int32_t kind, int32_t index, kiln_device_props* out) {
    return kiln_device_properties((kiln_device_kind)kind, index, out);
}

kiln_status fuzz_binary(kiln_context* ctx, int32_t op, const float* a, int64_t stride_a, const float* b,
                        int64_t stride_b, float* y, int64_t outer, int64_t inner) {
    return kiln_binary_f32(ctx, (kiln_binary_op)op, a, stride_a, b, stride_b, y, outer, inner);
}

kiln_status fuzz_binary_backward(kiln_context* ctx, int32_t op, const float* a, int64_t stride_a, const float* b,
                                 int64_t stride_b, const float* dy, float* da, float* db, int64_t outer, int64_t inner) {
    return kiln_binary_backward_f32(ctx, (kiln_binary_op)op, a, stride_a, b, stride_b, dy, da, db, outer, inner);
}

kiln_status fuzz_activation(kiln_context* ctx, int32_t act, const float* x, float* y, int64_t n, float alpha) {
    return kiln_activation_f32(ctx, (kiln_activation)act, x, y, n, alpha);
}

kiln_status fuzz_activation_backward(kiln_context* ctx, int32_t act, const float* x, const float* y, const float* dy,
                                     float* dx, int64_t n, float alpha) {
    return kiln_activation_backward_f32(ctx, (kiln_activation)act, x, y, dy, dx, n, alpha);
}

/* Declarations of enum_shim.c: the kiln.h entries that take an enum, called from C with any int32, as a C caller
 * would (kiln.h's enums have a fixed int32 type in C++ too, so either side may pass any value). */
#ifndef KILN_FUZZ_ENUM_SHIM_H
#define KILN_FUZZ_ENUM_SHIM_H

#include <stdint.h>

#include "kiln/kiln.h"

#ifdef __cplusplus
extern "C" {
#endif

kiln_status fuzz_context_create(int32_t kind, int32_t index, kiln_context** out);
kiln_status fuzz_device_properties(int32_t kind, int32_t index, kiln_device_props* out);
kiln_status fuzz_binary(kiln_context* ctx, int32_t op, const float* a, int64_t stride_a, const float* b,
                        int64_t stride_b, float* y, int64_t outer, int64_t inner);
kiln_status fuzz_binary_backward(kiln_context* ctx, int32_t op, const float* a, int64_t stride_a, const float* b,
                                 int64_t stride_b, const float* dy, float* da, float* db, int64_t outer, int64_t inner);
kiln_status fuzz_activation(kiln_context* ctx, int32_t act, const float* x, float* y, int64_t n, float alpha);
kiln_status fuzz_activation_backward(kiln_context* ctx, int32_t act, const float* x, const float* y, const float* dy,
                                     float* dx, int64_t n, float alpha);

#ifdef __cplusplus
}
#endif

#endif /* KILN_FUZZ_ENUM_SHIM_H */

// bfloat16 <-> fp32, written once for both backends: the upper 16 bits of an fp32, rounded to nearest even; NaN stays
// a quiet NaN with its payload kept. Both backends call this (the GPU's __float2bfloat16_rn rounds numbers the same way
// but returns a canonical NaN, so it would differ from the CPU in NaN payloads).
#pragma once

#include "kiln/kiln.h"
#include "numerics.h"

namespace kiln {

KILN_HD float bf16_to_f32(kiln_bf16 x) { return kiln_bits_to_float((uint32_t)x << 16); }

KILN_HD kiln_bf16 f32_to_bf16(float x) {
    const uint32_t u = kiln_float_to_bits(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (kiln_bf16)((u >> 16) | 0x0040u);  // NaN: keep sign, force quiet
    const uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);                          // ties to even
    return (kiln_bf16)((u + rounding) >> 16);
}

}  // namespace kiln

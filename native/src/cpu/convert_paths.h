// The vector paths of the CPU fp32 -> bf16 rounding (convert.cpp, convert_avx512.cpp) and the hooks tests use to run
// each one. The entries are declared in kernels/convert.h (its kiln::cpu block).
#pragma once

#include <cstdint>

#include "kiln/kiln.h"

namespace kiln::cpu {

namespace convert_detail {

// The vector paths the rounding can take; tests run each over every fp32 bit pattern against the portable one.
enum class Path { Portable, Avx512, Avx512Bf16 };

// Whether this CPU can run `path` (Portable always can).
bool available(Path path);
// convert_f32_to_bf16 over [0, n) on one thread through `path`, which must be available.
void f32_to_bf16_span(Path path, const float* x, kiln_bf16* y, int64_t n);

// The AVX-512 spans (convert_avx512.cpp, built with -mavx512f/bw/vl/dq; the Bf16 one adds vcvtneps2bf16 by a target
// attribute). Called only after available() said yes.
void avx512_f32_to_bf16(const float* x, kiln_bf16* y, int64_t n);
void avx512bf16_f32_to_bf16(const float* x, kiln_bf16* y, int64_t n);
void avx512_bf16_to_f32(const kiln_bf16* x, float* y, int64_t n);

}  // namespace convert_detail

}  // namespace kiln::cpu

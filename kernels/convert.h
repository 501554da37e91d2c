// The convert family's backend entries: kiln::cpu (native/src/cpu/convert.cpp) and kiln::cuda (host launchers of
// kernels/convert.cu): fp32 <-> bf16. Arguments were validated by native/src/core/ops_convert.cpp; the rounding is
// kernels/common/bf16.h, which every path of both backends reproduces bit for bit.
#pragma once

#include <cstdint>

#include "common/cuda_api.h"
#include "kiln/kiln.h"

namespace kiln::cpu {

// y (n) = x (n) rounded to nearest even; NaN stays a quiet NaN with its sign and upper payload. n >= 1.
void convert_f32_to_bf16(const float* x, kiln_bf16* y, int64_t n);
// y (n) = x (n) widened (exact: the bits shifted up by 16). n >= 1.
void convert_bf16_to_f32(const kiln_bf16* x, float* y, int64_t n);

}  // namespace kiln::cpu

// The same entries on the GPU, queued on stream s; pointers are device memory. The CPU's bits, NaN payloads included.
namespace kiln::cuda {

cudaError_t convert_f32_to_bf16(cudaStream_t s, const float* x, kiln_bf16* y, int64_t n);
cudaError_t convert_bf16_to_f32(cudaStream_t s, const kiln_bf16* x, float* y, int64_t n);

}  // namespace kiln::cuda

// Host launchers of kernels/convert.cu: fp32 <-> bf16. Pointers are device memory; arguments are validated by
// native/src/core/ops_convert.cpp; shapes as in native/src/cpu/convert.h.
#pragma once

#include <cstdint>

#include "common/cuda_api.h"
#include "kiln/kiln.h"

namespace kiln::cuda {

// y (n) = x (n) rounded to nearest even by kernels/common/bf16.h (the CPU's bits, NaN payloads included).
cudaError_t convert_f32_to_bf16(cudaStream_t s, const float* x, kiln_bf16* y, int64_t n);
// y (n) = x (n) widened (exact).
cudaError_t convert_bf16_to_f32(cudaStream_t s, const kiln_bf16* x, float* y, int64_t n);

}  // namespace kiln::cuda

// The layernorm family's backend entries: kiln::cpu (native/src/cpu/layernorm.cpp) and kiln::cuda (host launchers of
// kernels/layernorm.cu): layer norm over the last dimension of x (rows, cols), forward and backward. Arguments were
// validated by native/src/core/ops_layernorm.cpp; per-element formulas are kernels/common/layernorm_math.h, one text
// for both.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/cuda_api.h"
#include "common/scratch.h"

namespace kiln::cpu {

// x, y are (rows, cols), rows >= 1, cols >= 1; gamma, beta (cols) may be null (1, 0); mean, rstd (rows) are assigned
// unless null. y may alias x. On the CPU, row statistics are one pass in double.
void layer_norm_f32(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                    int64_t rows, int64_t cols, float eps);
// x, dy, dx are (rows, cols); gamma (cols) may be null; mean, rstd (rows) from the forward. dx, dgamma, dbeta (cols)
// may each be null (not wanted), the others are assigned. rows may be 0 (dgamma = dbeta = 0); cols >= 1. On the CPU,
// sums are in double; dgamma and dbeta add row-block partials in block order, blocks fixed by the shape.
void layer_norm_backward_f32(const float* x, const float* dy, const float* gamma, const float* mean, const float* rstd,
                             float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols);

}  // namespace kiln::cpu

// The same entries on the GPU; pointers are device memory. Launchers queue work on stream s and never synchronize.
// Shapes as in the CPU block above.
namespace kiln::cuda {

// One kernel: a warp (cols <= 1024) or a block per row, statistics by fp32 Welford merges.
cudaError_t layer_norm_f32(cudaStream_t s, const float* x, const float* gamma, const float* beta, float* y, float* mean,
                           float* rstd, int64_t rows, int64_t cols, float eps);

// Device scratch layer_norm_backward_f32 takes when dgamma or dbeta is wanted (0: none): the per-split partials. It
// depends only on the shape.
size_t layer_norm_backward_workspace_bytes(int64_t rows, int64_t cols);
// dgamma and dbeta: per-block partials over row splits into scratch, then a fixed-order sum of the splits; no atomics.
cudaError_t layer_norm_backward_f32(cudaStream_t s, Scratch& scratch, const float* x, const float* dy,
                                    const float* gamma, const float* mean, const float* rstd, float* dx, float* dgamma,
                                    float* dbeta, int64_t rows, int64_t cols);

}  // namespace kiln::cuda

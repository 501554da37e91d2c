// Host launchers of kernels/layernorm.cu: layer norm over the last dimension of x (rows, cols), forward and backward.
// Pointers are device memory; arguments were validated by native/src/core/ops_layernorm.cpp; shapes as in
// native/src/cpu/layernorm.h. Launchers queue work on the stream and never synchronize.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/cuda_api.h"
#include "common/scratch.h"

namespace kiln::cuda {

// x, y are (rows, cols), rows >= 1, cols >= 1; gamma, beta (cols) may be null; mean, rstd (rows) assigned unless
// null. y may alias x. One kernel: a warp (cols <= 1024) or a block per row, statistics by fp32 Welford merges.
cudaError_t layer_norm_f32(cudaStream_t s, const float* x, const float* gamma, const float* beta, float* y, float* mean,
                           float* rstd, int64_t rows, int64_t cols, float eps);

// Device scratch layer_norm_backward_f32 takes when dgamma or dbeta is wanted (0: none): the per-split partials. It
// depends only on the shape.
size_t layer_norm_backward_workspace_bytes(int64_t rows, int64_t cols);
// x, dy, dx are (rows, cols); gamma (cols) may be null; dx, dgamma, dbeta (cols) may each be null. rows may be 0
// (dgamma = dbeta = 0); cols >= 1. dgamma and dbeta: per-block partials over row splits into scratch, then a
// fixed-order sum of the splits; no atomics.
cudaError_t layer_norm_backward_f32(cudaStream_t s, Scratch& scratch, const float* x, const float* dy,
                                    const float* gamma, const float* mean, const float* rstd, float* dx, float* dgamma,
                                    float* dbeta, int64_t rows, int64_t cols);

}  // namespace kiln::cuda

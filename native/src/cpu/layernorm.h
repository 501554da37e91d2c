// CPU twin of kernels/layernorm.cu: layer norm over the last dimension of x (rows, cols), forward and backward.
// Arguments were validated by native/src/core/ops_layernorm.cpp; per-element formulas are
// kernels/common/layernorm_math.h, shared with the GPU.
#pragma once

#include <cstdint>

namespace kiln::cpu {

// x, y are (rows, cols), rows >= 1, cols >= 1; gamma, beta (cols) may be null (1, 0); mean, rstd (rows) are assigned
// unless null. y may alias x. Row statistics are one pass in double.
void layer_norm_f32(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                    int64_t rows, int64_t cols, float eps);
// x, dy, dx are (rows, cols); gamma (cols) may be null; mean, rstd (rows) from the forward. dx, dgamma, dbeta (cols)
// may each be null (not wanted), the others are assigned. rows may be 0 (dgamma = dbeta = 0); cols >= 1. Sums are in
// double; dgamma and dbeta add row-block partials in block order, blocks fixed by the shape.
void layer_norm_backward_f32(const float* x, const float* dy, const float* gamma, const float* mean, const float* rstd,
                             float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols);

}  // namespace kiln::cpu

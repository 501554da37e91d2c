// The batchnorm family's backend entries: kiln::cpu (native/src/cpu/batchnorm.cpp) and kiln::cuda (host launchers of
// kernels/batchnorm.cu): batch norm over x (n, c, hw) per channel, training forward (batch statistics, running-stat
// update), evaluation forward, and the training and evaluation backwards. Arguments were validated by
// native/src/core/ops_batchnorm.cpp; per-element formulas are kernels/common/batchnorm_math.h, one text for both.
#pragma once

#include <cstdint>

#include "common/cuda_api.h"
#include "common/scratch.h"

namespace kiln::cpu {

// x, y are (n, c, hw); gamma, beta (c) may be null (1, 0); save_mean, save_invstd are (c), assigned; running_mean and
// running_var (c) are updated when not null. c >= 1, n * hw >= 1. The CPU sums the statistics in double, two-pass.
void batch_norm_train_f32(int64_t n, int64_t c, int64_t hw, const float* x, const float* gamma, const float* beta,
                          float* y, float* save_mean, float* save_invstd, float* running_mean, float* running_var,
                          float momentum, float eps);
// x, y are (n, c, hw); running_mean, running_var (c); gamma, beta (c) may be null. n * c * hw >= 1.
void batch_norm_eval_f32(int64_t n, int64_t c, int64_t hw, const float* x, const float* gamma, const float* beta,
                         const float* running_mean, const float* running_var, float eps, float* y);
// x, dy, dx are (n, c, hw); gamma (c) may be null; save_mean, save_invstd (c) from the training forward.
// dx, dgamma, dbeta (c) may each be null (not wanted); the others are assigned. c >= 1, n * hw >= 1.
void batch_norm_backward_f32(int64_t n, int64_t c, int64_t hw, const float* x, const float* dy, const float* gamma,
                             const float* save_mean, const float* save_invstd, float* dx, float* dgamma, float* dbeta);
// Backward of the evaluation form: x, dy, dx are (n, c, hw); gamma (c) may be null; running_mean, running_var (c) are
// constants. dx, dgamma, dbeta (c) may each be null (not wanted), not all three; the others are assigned. c >= 1;
// n * hw may be 0: dgamma and dbeta are then 0. On the CPU, channel sums are in double, in an order fixed by the shape.
void batch_norm_backward_eval_f32(int64_t n, int64_t c, int64_t hw, const float* x, const float* dy,
                                  const float* gamma, const float* running_mean, const float* running_var, float eps,
                                  float* dx, float* dgamma, float* dbeta);

}  // namespace kiln::cpu

// The same entries on the GPU; pointers are device memory. Each launcher queues one kernel on stream s and returns
// cudaGetLastError(); none synchronizes or needs scratch memory.
namespace kiln::cuda {

// The training forward and backward take scratch for a channel's per-block partial sums when a channel is split over
// several blocks (kernels/batchnorm.cu).
cudaError_t batch_norm_train_f32(cudaStream_t s, Scratch& scratch, int64_t n, int64_t c, int64_t hw, const float* x,
                                 const float* gamma, const float* beta, float* y, float* save_mean, float* save_invstd,
                                 float* running_mean, float* running_var, float momentum, float eps);
cudaError_t batch_norm_eval_f32(cudaStream_t s, int64_t n, int64_t c, int64_t hw, const float* x, const float* gamma,
                                const float* beta, const float* running_mean, const float* running_var, float eps,
                                float* y);
cudaError_t batch_norm_backward_f32(cudaStream_t s, Scratch& scratch, int64_t n, int64_t c, int64_t hw, const float* x,
                                    const float* dy, const float* gamma, const float* save_mean,
                                    const float* save_invstd, float* dx, float* dgamma, float* dbeta);
cudaError_t batch_norm_backward_eval_f32(cudaStream_t s, int64_t n, int64_t c, int64_t hw, const float* x,
                                         const float* dy, const float* gamma, const float* running_mean,
                                         const float* running_var, float eps, float* dx, float* dgamma, float* dbeta);

}  // namespace kiln::cuda

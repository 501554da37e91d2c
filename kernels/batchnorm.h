// Host launchers of kernels/batchnorm.cu: batch norm over x (n, c, hw) per channel, training forward, evaluation
// forward, training backward and evaluation backward. Pointers are device memory; arguments were validated by
// native/src/core/ops_batchnorm.cpp. Each launcher queues one kernel on the stream and returns cudaGetLastError();
// none synchronizes or needs scratch memory.
#pragma once

#include "common/cuda_api.h"

#include <cstdint>

namespace kiln::cuda {

// x, y are (n, c, hw); gamma, beta (c) may be null; save_mean, save_invstd (c) assigned; running_mean, running_var (c)
// updated when not null. c >= 1, n * hw >= 1.
cudaError_t batch_norm_train_f32(cudaStream_t s, int64_t n, int64_t c, int64_t hw, const float* x, const float* gamma,
                                 const float* beta, float* y, float* save_mean, float* save_invstd, float* running_mean,
                                 float* running_var, float momentum, float eps);
// x, y are (n, c, hw); running_mean, running_var (c); gamma, beta (c) may be null. n * c * hw >= 1.
cudaError_t batch_norm_eval_f32(cudaStream_t s, int64_t n, int64_t c, int64_t hw, const float* x, const float* gamma,
                                const float* beta, const float* running_mean, const float* running_var, float eps,
                                float* y);
// x, dy, dx are (n, c, hw); gamma (c) may be null; dx, dgamma, dbeta (c) may each be null. c >= 1, n * hw >= 1.
cudaError_t batch_norm_backward_f32(cudaStream_t s, int64_t n, int64_t c, int64_t hw, const float* x, const float* dy,
                                    const float* gamma, const float* save_mean, const float* save_invstd, float* dx,
                                    float* dgamma, float* dbeta);
// x, dy, dx are (n, c, hw); gamma (c) may be null; running_mean, running_var (c); dx, dgamma, dbeta (c) may each be
// null, not all three. c >= 1; n * hw may be 0 when dgamma or dbeta is wanted (they are then assigned 0).
cudaError_t batch_norm_backward_eval_f32(cudaStream_t s, int64_t n, int64_t c, int64_t hw, const float* x,
                                         const float* dy, const float* gamma, const float* running_mean,
                                         const float* running_var, float eps, float* dx, float* dgamma, float* dbeta);

}  // namespace kiln::cuda

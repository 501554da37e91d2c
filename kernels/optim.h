// Host launchers of kernels/optim.cu: fused optimizer steps. Pointers are device memory, all (n) and distinct;
// arguments are validated by native/src/core/ops_optim.cpp.
#pragma once

#include "common/cuda_api.h"

#include <cstdint>

namespace kiln::cuda {

// velocity is NULL exactly when momentum == 0.
cudaError_t sgd_step_f32(cudaStream_t s, float* param, const float* grad, float* velocity, int64_t n, float lr,
                         float momentum, float weight_decay, bool nesterov);
cudaError_t adam_step_f32(cudaStream_t s, float* param, const float* grad, float* m, float* v, int64_t n, float lr,
                          float beta1, float beta2, float eps, float weight_decay, bool decoupled,
                          float bias_correction1, float bias_correction2);

// Capturable Adam (kiln.h): step (1) int32 and bias_corrections (2) in device memory, so a CUDA graph replays a
// counting step. The advance is one thread; the step reads the corrections from bias_corrections.
cudaError_t adam_advance_step(cudaStream_t s, int32_t* step, float* bias_corrections, float beta1, float beta2);
cudaError_t adam_step_capturable_f32(cudaStream_t s, float* param, const float* grad, float* m, float* v, int64_t n,
                                     float lr, float beta1, float beta2, float eps, float weight_decay, bool decoupled,
                                     const float* bias_corrections);

}  // namespace kiln::cuda

// The optim family's backend entries: kiln::cpu (native/src/cpu/optim.cpp) and kiln::cuda (host launchers of
// kernels/optim.cu): fused optimizer steps, one pass per parameter tensor. Arguments were validated by
// native/src/core/ops_optim.cpp. All buffers are (n) and distinct.
#pragma once

#include <cstdint>

#include "common/cuda_api.h"

namespace kiln::cpu {

// velocity is NULL exactly when momentum == 0 (then param -= lr * (grad + wd * param)).
void sgd_step_f32(float* param, const float* grad, float* velocity, int64_t n, float lr, float momentum,
                  float weight_decay, bool nesterov);
void adam_step_f32(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                   float eps, float weight_decay, bool decoupled, float bias_correction1, float bias_correction2);

// Capturable Adam (kiln.h): the step counter step (1) int32 and the corrections bias_corrections (2) live in device
// memory (on the CPU, host memory), so a CUDA graph replays a counting step; the step reads the corrections from
// bias_corrections.
void adam_advance_step(int32_t* step, float* bias_corrections, float beta1, float beta2);
void adam_step_capturable_f32(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1,
                              float beta2, float eps, float weight_decay, bool decoupled,
                              const float* bias_corrections);

}  // namespace kiln::cpu

// The same entries on the GPU, queued on stream s; pointers are device memory. Shapes as in the CPU block above.
namespace kiln::cuda {

cudaError_t sgd_step_f32(cudaStream_t s, float* param, const float* grad, float* velocity, int64_t n, float lr,
                         float momentum, float weight_decay, bool nesterov);
cudaError_t adam_step_f32(cudaStream_t s, float* param, const float* grad, float* m, float* v, int64_t n, float lr,
                          float beta1, float beta2, float eps, float weight_decay, bool decoupled,
                          float bias_correction1, float bias_correction2);

// The advance is one thread.
cudaError_t adam_advance_step(cudaStream_t s, int32_t* step, float* bias_corrections, float beta1, float beta2);
cudaError_t adam_step_capturable_f32(cudaStream_t s, float* param, const float* grad, float* m, float* v, int64_t n,
                                     float lr, float beta1, float beta2, float eps, float weight_decay, bool decoupled,
                                     const float* bias_corrections);

}  // namespace kiln::cuda

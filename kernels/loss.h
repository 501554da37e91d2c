// The loss family's backend entries: kiln::cpu (native/src/cpu/loss.cpp) and kiln::cuda (host launchers of
// kernels/loss.cu): cross entropy over int32 labels, BCE with logits and MSE, each the mean over its elements. loss
// and dloss are 1-element buffers. Arguments were validated by native/src/core/ops_loss.cpp.
#pragma once

#include <cstdint>

#include "common/cuda_api.h"
#include "common/scratch.h"

namespace kiln::cpu {

// logits is (rows, cols), labels and lse are (rows), loss is (1); cols >= 1. A label outside [0, cols) makes the
// loss NaN (and its row's gradient NaN in the backward).
void cross_entropy_f32(const float* logits, const int32_t* labels, float* loss, float* lse, int64_t rows, int64_t cols);
// logits, dlogits are (rows, cols); labels, lse are (rows); dloss is (1).
void cross_entropy_backward_f32(const float* logits, const int32_t* labels, const float* lse, const float* dloss,
                                float* dlogits, int64_t rows, int64_t cols);
// x, t are (n); loss is (1). n == 0 gives NaN.
void bce_with_logits_f32(const float* x, const float* t, float* loss, int64_t n);
// x, t, dx are (n); dloss is (1).
void bce_with_logits_backward_f32(const float* x, const float* t, const float* dloss, float* dx, int64_t n);
void mse_f32(const float* x, const float* t, float* loss, int64_t n);
void mse_backward_f32(const float* x, const float* t, const float* dloss, float* dx, int64_t n);

}  // namespace kiln::cpu

// The same entries on the GPU, queued on stream s. Pointers are device memory, loss and dloss included: the backward
// kernels read dloss[0] themselves, so nothing waits for the host. Shapes as in the CPU block above.
namespace kiln::cuda {

cudaError_t cross_entropy_f32(cudaStream_t s, const float* logits, const int32_t* labels, float* loss, float* lse,
                              int64_t rows, int64_t cols);
cudaError_t cross_entropy_backward_f32(cudaStream_t s, const float* logits, const int32_t* labels, const float* lse,
                                       const float* dloss, float* dlogits, int64_t rows, int64_t cols);
cudaError_t bce_with_logits_f32(cudaStream_t s, Scratch& scratch, const float* x, const float* t, float* loss,
                                int64_t n);
cudaError_t bce_with_logits_backward_f32(cudaStream_t s, const float* x, const float* t, const float* dloss, float* dx,
                                         int64_t n);
cudaError_t mse_f32(cudaStream_t s, Scratch& scratch, const float* x, const float* t, float* loss, int64_t n);
cudaError_t mse_backward_f32(cudaStream_t s, const float* x, const float* t, const float* dloss, float* dx, int64_t n);

}  // namespace kiln::cuda

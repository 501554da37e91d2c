// Host launchers of kernels/loss.cu: cross entropy over int32 labels, BCE with logits, MSE; each loss is the mean over
// its elements. Pointers are device memory; loss and dloss are 1-element device buffers (the backward kernels read
// dloss[0] themselves, so nothing waits for the host). Arguments were validated by core.
#pragma once

#include "common/cuda_api.h"

#include <cstdint>

namespace kiln::cuda {

// logits is (rows, cols), labels and lse are (rows), loss is (1); cols >= 1.
cudaError_t cross_entropy_f32(cudaStream_t s, const float* logits, const int32_t* labels, float* loss, float* lse,
                              int64_t rows, int64_t cols);
// logits, dlogits are (rows, cols); labels, lse are (rows); dloss is (1).
cudaError_t cross_entropy_backward_f32(cudaStream_t s, const float* logits, const int32_t* labels, const float* lse,
                                       const float* dloss, float* dlogits, int64_t rows, int64_t cols);
// x, t are (n); loss is (1).
cudaError_t bce_with_logits_f32(cudaStream_t s, const float* x, const float* t, float* loss, int64_t n);
// x, t, dx are (n); dloss is (1).
cudaError_t bce_with_logits_backward_f32(cudaStream_t s, const float* x, const float* t, const float* dloss, float* dx,
                                         int64_t n);
cudaError_t mse_f32(cudaStream_t s, const float* x, const float* t, float* loss, int64_t n);
cudaError_t mse_backward_f32(cudaStream_t s, const float* x, const float* t, const float* dloss, float* dx, int64_t n);

}  // namespace kiln::cuda

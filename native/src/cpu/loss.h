// CPU twin of kernels/loss.cu: cross entropy over int32 labels, BCE with logits and MSE, each the mean over its
// elements. loss and dloss are 1-element buffers. Arguments were validated by native/src/core/ops_loss.cpp.
#pragma once

#include <cstdint>

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

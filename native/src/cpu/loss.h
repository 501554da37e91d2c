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

namespace avx512 {
// The BCE spans of loss_avx512.cpp (AVX-512 CPUs only; elsewhere loss.cpp runs the scalar terms of
// kernels/common/softmax_math.h). Each lane within a few ulp of the scalar term: the vector exp and log1p of
// cpu/avx512_math.h stand in for glibc's (the scalar path's per-element expf and log1pf cost 8x the rest of a VAE's
// loss). bce_logits_sum returns the sum of the terms in double, in a fixed order for a given span.
double bce_logits_sum(const float* x, const float* t, int64_t n);
// dx[i] = (sigmoid(x[i]) - t[i]) * scale.
void bce_logits_grad(const float* x, const float* t, float scale, float* dx, int64_t n);
}  // namespace avx512

}  // namespace kiln::cpu

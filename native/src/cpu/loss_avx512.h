// The AVX-512 spans of the CPU's BCE with logits, defined in loss_avx512.cpp and called by loss.cpp (the entries are
// declared in kernels/loss.h, its kiln::cpu block).
#pragma once

#include <cstdint>

namespace kiln::cpu {

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

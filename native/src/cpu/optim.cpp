// Optimizer steps on the CPU: the update rules of kernels/common/optim_math.h applied in one parallel pass, so the
// CPU and the GPU step a parameter to the same bits.
#include "optim.h"

#include "common/optim_math.h"
#include "cpu/parallel.h"
#include "cpu/simd.h"

namespace kiln::cpu {

namespace {

constexpr int64_t kGrain = 1 << 14;

// The span functions take restrict pointers (the buffers are distinct, kiln.h) so the loops vectorize without
// runtime overlap checks; parallel_for hands each a chunk [lo, hi). The file is built for the x86-64 baseline, so each
// span is cloned for AVX-512 and AVX2 (cpu/simd.h's KILN_VECTOR_CLONES) and the loader picks the clone this CPU
// runs: 16 or 8 elements per instruction instead of 4, with the same bits (the update's divisions and square root are
// correctly rounded at every width, and -ffp-contract=off keeps multiplies and adds apart). Adam at 1M parameters ran
// 0.50 ms at SSE2 width.

// The loops, inlined into each clone (target_clones takes plain functions, not templates).
template <bool Nesterov>
[[gnu::always_inline]] inline void sgd_momentum_loop(float* __restrict param, const float* __restrict grad,
                                                     float* __restrict velocity, int64_t lo, int64_t hi, float lr,
                                                     float momentum, float wd) {
    for (int64_t i = lo; i < hi; ++i) sgd_momentum<Nesterov>(param + i, grad[i], velocity + i, lr, momentum, wd);
}

template <bool Decoupled>
[[gnu::always_inline]] inline void adam_loop(float* __restrict param, const float* __restrict grad,
                                             float* __restrict m, float* __restrict v, int64_t lo, int64_t hi,
                                             float lr, float b1, float b2, float eps, float wd, float bc1, float bc2) {
    for (int64_t i = lo; i < hi; ++i)
        adam_update<Decoupled>(param + i, grad[i], m + i, v + i, lr, b1, b2, eps, wd, bc1, bc2);
}

KILN_VECTOR_CLONES
void sgd_plain_span(float* __restrict param, const float* __restrict grad, int64_t lo, int64_t hi, float lr,
                    float wd) {
    for (int64_t i = lo; i < hi; ++i) param[i] = sgd_plain(param[i], grad[i], lr, wd);
}

KILN_VECTOR_CLONES
void sgd_momentum_span(bool nesterov, float* __restrict param, const float* __restrict grad,
                       float* __restrict velocity, int64_t lo, int64_t hi, float lr, float momentum, float wd) {
    if (nesterov) sgd_momentum_loop<true>(param, grad, velocity, lo, hi, lr, momentum, wd);
    else sgd_momentum_loop<false>(param, grad, velocity, lo, hi, lr, momentum, wd);
}

KILN_VECTOR_CLONES
void adam_span(bool decoupled, float* __restrict param, const float* __restrict grad, float* __restrict m,
               float* __restrict v, int64_t lo, int64_t hi, float lr, float b1, float b2, float eps, float wd,
               float bc1, float bc2) {
    if (decoupled) adam_loop<true>(param, grad, m, v, lo, hi, lr, b1, b2, eps, wd, bc1, bc2);
    else adam_loop<false>(param, grad, m, v, lo, hi, lr, b1, b2, eps, wd, bc1, bc2);
}

template <typename Body>
void parallel_range(int64_t n, Body&& body) {
    if (n <= 0) return;
    parallel_for(n, [&](int64_t begin, int64_t end) { body(begin, end); }, kGrain);
}

}  // namespace

void sgd_step_f32(float* param, const float* grad, float* velocity, int64_t n, float lr, float momentum,
                  float weight_decay, bool nesterov) {
    parallel_range(n, [&](int64_t lo, int64_t hi) {
        if (!velocity) sgd_plain_span(param, grad, lo, hi, lr, weight_decay);
        else sgd_momentum_span(nesterov, param, grad, velocity, lo, hi, lr, momentum, weight_decay);
    });
}

void adam_step_f32(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                   float eps, float weight_decay, bool decoupled, float bias_correction1, float bias_correction2) {
    parallel_range(n, [&](int64_t lo, int64_t hi) {
        adam_span(decoupled, param, grad, m, v, lo, hi, lr, beta1, beta2, eps, weight_decay, bias_correction1,
                  bias_correction2);
    });
}

void adam_advance_step(int32_t* step, float* bias_corrections, float beta1, float beta2) {
    adam_advance(step, bias_corrections, beta1, beta2);
}

void adam_step_capturable_f32(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1,
                              float beta2, float eps, float weight_decay, bool decoupled,
                              const float* bias_corrections) {
    // Read once, as every GPU thread reads them: the same two values for the whole tensor.
    adam_step_f32(param, grad, m, v, n, lr, beta1, beta2, eps, weight_decay, decoupled, bias_corrections[0],
                  bias_corrections[1]);
}

}  // namespace kiln::cpu

// Optimizer kernels: one fused grid-stride pass per parameter tensor reading and writing each state element once.
// The update rules are kernels/common/optim_math.h, shared with native/src/cpu/optim.cpp (IEEE-exact ops only), so
// a step gives the same bits on both backends.
#include "common/launch.h"
#include "common/optim_math.h"
#include "optim.h"

namespace kiln::cuda {

namespace {

constexpr int kBlock = 256;

__global__ void sgd_plain_kernel(float* __restrict__ param, const float* __restrict__ grad, int64_t n, float lr,
                                 float wd) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        param[i] = sgd_plain(param[i], grad[i], lr, wd);
}

template <bool Nesterov>
__global__ void sgd_momentum_kernel(float* __restrict__ param, const float* __restrict__ grad,
                                    float* __restrict__ velocity, int64_t n, float lr, float momentum, float wd) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        sgd_momentum<Nesterov>(param + i, grad[i], velocity + i, lr, momentum, wd);
}

template <bool Decoupled>
__global__ void adam_kernel(float* __restrict__ param, const float* __restrict__ grad, float* __restrict__ m,
                            float* __restrict__ v, int64_t n, float lr, float b1, float b2, float eps, float wd,
                            float bc1, float bc2) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        adam_update<Decoupled>(param + i, grad[i], m + i, v + i, lr, b1, b2, eps, wd, bc1, bc2);
}

// The corrections are read from device memory: every thread loads the same two floats (one broadcast per warp).
template <bool Decoupled>
__global__ void adam_capturable_kernel(float* __restrict__ param, const float* __restrict__ grad, float* __restrict__ m,
                                       float* __restrict__ v, int64_t n, float lr, float b1, float b2, float eps,
                                       float wd, const float* __restrict__ bias_corrections) {
    const float bc1 = bias_corrections[0], bc2 = bias_corrections[1];
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        adam_update<Decoupled>(param + i, grad[i], m + i, v + i, lr, b1, b2, eps, wd, bc1, bc2);
}

// One thread: the counter is one value, and the corrections' ~60 double multiplies are nothing beside a launch.
__global__ void adam_advance_kernel(int32_t* step, float* bias_corrections, float b1, float b2) {
    adam_advance(step, bias_corrections, b1, b2);
}

}  // namespace

cudaError_t sgd_step_f32(cudaStream_t s, float* param, const float* grad, float* velocity, int64_t n, float lr,
                         float momentum, float weight_decay, bool nesterov) {
    if (n <= 0) return cudaSuccess;
    const unsigned grid = grid_1d((size_t)n, kBlock);
    if (!velocity)
        sgd_plain_kernel<<<grid, kBlock, 0, s>>>(param, grad, n, lr, weight_decay);
    else if (nesterov)
        sgd_momentum_kernel<true><<<grid, kBlock, 0, s>>>(param, grad, velocity, n, lr, momentum, weight_decay);
    else
        sgd_momentum_kernel<false><<<grid, kBlock, 0, s>>>(param, grad, velocity, n, lr, momentum, weight_decay);
    return cudaGetLastError();
}

cudaError_t adam_step_f32(cudaStream_t s, float* param, const float* grad, float* m, float* v, int64_t n, float lr,
                          float beta1, float beta2, float eps, float weight_decay, bool decoupled,
                          float bias_correction1, float bias_correction2) {
    if (n <= 0) return cudaSuccess;
    const unsigned grid = grid_1d((size_t)n, kBlock);
    if (decoupled)
        adam_kernel<true><<<grid, kBlock, 0, s>>>(param, grad, m, v, n, lr, beta1, beta2, eps, weight_decay,
                                                  bias_correction1, bias_correction2);
    else
        adam_kernel<false><<<grid, kBlock, 0, s>>>(param, grad, m, v, n, lr, beta1, beta2, eps, weight_decay,
                                                   bias_correction1, bias_correction2);
    return cudaGetLastError();
}

cudaError_t adam_advance_step(cudaStream_t s, int32_t* step, float* bias_corrections, float beta1, float beta2) {
    adam_advance_kernel<<<1, 1, 0, s>>>(step, bias_corrections, beta1, beta2);
    return cudaGetLastError();
}

cudaError_t adam_step_capturable_f32(cudaStream_t s, float* param, const float* grad, float* m, float* v, int64_t n,
                                     float lr, float beta1, float beta2, float eps, float weight_decay, bool decoupled,
                                     const float* bias_corrections) {
    if (n <= 0) return cudaSuccess;
    const unsigned grid = grid_1d((size_t)n, kBlock);
    if (decoupled)
        adam_capturable_kernel<true><<<grid, kBlock, 0, s>>>(param, grad, m, v, n, lr, beta1, beta2, eps, weight_decay,
                                                             bias_corrections);
    else
        adam_capturable_kernel<false><<<grid, kBlock, 0, s>>>(param, grad, m, v, n, lr, beta1, beta2, eps,
                                                              weight_decay, bias_corrections);
    return cudaGetLastError();
}

}  // namespace kiln::cuda

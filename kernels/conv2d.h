// Host launchers of kernels/conv2d.cu: 2-D convolution (NCHW fp32) on the GPU as implicit GEMMs. Pointers are device
// memory; nothing is validated here (core validates first, see native/src/core/ops_conv2d.cpp), nothing
// synchronizes, and errors come back as the launch's cudaError_t.
#pragma once

#include "common/cuda_api.h"

#include <cstddef>

#include "common/conv_geometry.h"
#include "common/scratch.h"

namespace kiln::cuda {

// y (n, k, p, q) = conv(x (n, c, h, w), w (k, c, r, s)) + bias (k); bias may be NULL. Assigns y.
cudaError_t conv2d_forward_f32(cudaStream_t s, const conv::Geometry& g, const float* x, const float* w,
                               const float* bias, float* y);
// dx (n, c, h, w) from dy (n, k, p, q) and w. Assigns dx.
cudaError_t conv2d_backward_data_f32(cudaStream_t s, const conv::Geometry& g, const float* dy, const float* w,
                                     float* dx);
// dw (k, c, r, s) and, when dbias is not NULL, dbias (k) from x and dy. Assigns both. Where the reduction over n p q
// is split across blocks, the splits' partial sums go to scratch (conv2d_backward_weight_workspace_bytes(g) on the
// current device, asked of `scratch` only where it is not 0) and are added in a fixed order: the same bits on every run.
size_t conv2d_backward_weight_workspace_bytes(const conv::Geometry& g);
cudaError_t conv2d_backward_weight_f32(cudaStream_t s, Scratch& scratch, const conv::Geometry& g, const float* x,
                                       const float* dy, float* dw, float* dbias);

}  // namespace kiln::cuda

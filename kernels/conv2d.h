// The conv2d family's backend entries: kiln::cpu (native/src/cpu/conv2d.cpp) and kiln::cuda (host launchers of
// kernels/conv2d.cu, implicit GEMMs): 2-D convolution (NCHW fp32) forward, backward-data and backward-weight.
// Nothing is validated here (core validates first, see native/src/core/ops_conv2d.cpp); index math comes from
// kernels/common/conv_geometry.h. The CPU's kernel contracts are in cpu/conv2d_kernels.h, its switches in
// cpu/conv2d_paths.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/conv_geometry.h"
#include "common/cuda_api.h"
#include "common/scratch.h"

namespace kiln::cpu {

// y (n, k, p, q) = conv(x (n, c, h, w), w (k, c, r, s)) + bias (k) (bias may be NULL). Assigns y.
void conv2d_forward_f32(const conv::Geometry& g, const float* x, const float* w, const float* bias, float* y);
// dx (n, c, h, w) from dy (n, k, p, q) and w (k, c, r, s). Assigns dx.
void conv2d_backward_data_f32(const conv::Geometry& g, const float* dy, const float* w, float* dx);
// dw (k, c, r, s) and, when dbias is not NULL, dbias (k) from x (n, c, h, w) and dy (n, k, p, q). Assigns both.
void conv2d_backward_weight_f32(const conv::Geometry& g, const float* x, const float* dy, float* dw, float* dbias);

// Scratch bytes one call of the largest direction uses for this shape with num_threads() threads: what the calling
// thread keeps cached between calls (kiln_conv2d_workspace_size). Bounded by the blocking, never proportional to the
// batch.
uint64_t conv2d_workspace_bytes(const conv::Geometry& g);

}  // namespace kiln::cpu

// The same entries on the GPU; pointers are device memory, nothing synchronizes, and errors come back as the
// launch's cudaError_t. Shapes as in the CPU block above.
namespace kiln::cuda {

cudaError_t conv2d_forward_f32(cudaStream_t s, const conv::Geometry& g, const float* x, const float* w,
                               const float* bias, float* y);
cudaError_t conv2d_backward_data_f32(cudaStream_t s, const conv::Geometry& g, const float* dy, const float* w,
                                     float* dx);
// Where the reduction over n p q is split across blocks, the splits' partial sums go to scratch
// (conv2d_backward_weight_workspace_bytes(g) on the current device, asked of `scratch` only where it is not 0) and are
// added in a fixed order: the same bits on every run.
size_t conv2d_backward_weight_workspace_bytes(const conv::Geometry& g);
cudaError_t conv2d_backward_weight_f32(cudaStream_t s, Scratch& scratch, const conv::Geometry& g, const float* x,
                                       const float* dy, float* dw, float* dbias);

}  // namespace kiln::cuda

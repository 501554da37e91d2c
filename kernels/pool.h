// The pool family's backend entries: kiln::cpu (native/src/cpu/pool.cpp) and kiln::cuda (host launchers of
// kernels/pool.cu): 2-D max and average pooling over NCHW planes, forward and backward. Arguments were validated by
// native/src/core/ops_pool.cpp; window math is kernels/common/pool_geometry.h, one text, so the two agree bit for bit.
#pragma once

#include <cstdint>

#include "common/cuda_api.h"
#include "common/pool_geometry.h"

namespace kiln::cpu {

// x is (planes, h, w), y and index are (planes, p, q); planes = n * c >= 1. index gets the input's row * w + col.
void max_pool2d_f32(const PoolGeom& g, int64_t planes, const float* x, float* y, int32_t* index);
// dy and index are (planes, p, q), dx is (planes, h, w), assigned: dx[i] = sum of dy[o] over the outputs o whose
// window contains i and whose index is i (an index outside its own window is ignored).
void max_pool2d_backward_f32(const PoolGeom& g, int64_t planes, const float* dy, const int32_t* index, float* dx);
// x is (planes, h, w), y is (planes, p, q).
void avg_pool2d_f32(const PoolGeom& g, int64_t planes, const float* x, float* y, bool count_include_pad);
// dy is (planes, p, q), dx is (planes, h, w), assigned: dx[i] = sum of dy[o] / divisor(o) over windows o covering i.
void avg_pool2d_backward_f32(const PoolGeom& g, int64_t planes, const float* dy, float* dx, bool count_include_pad);

}  // namespace kiln::cpu

// The same entries on the GPU; pointers are device memory. Each launcher queues one kernel on stream s and returns
// cudaGetLastError(); none synchronizes or needs scratch memory. Shapes as in the CPU block above.
namespace kiln::cuda {

cudaError_t max_pool2d_f32(cudaStream_t s, const PoolGeom& g, int64_t planes, const float* x, float* y,
                           int32_t* index);
cudaError_t max_pool2d_backward_f32(cudaStream_t s, const PoolGeom& g, int64_t planes, const float* dy,
                                    const int32_t* index, float* dx);
cudaError_t avg_pool2d_f32(cudaStream_t s, const PoolGeom& g, int64_t planes, const float* x, float* y,
                           bool count_include_pad);
cudaError_t avg_pool2d_backward_f32(cudaStream_t s, const PoolGeom& g, int64_t planes, const float* dy, float* dx,
                                    bool count_include_pad);

}  // namespace kiln::cuda

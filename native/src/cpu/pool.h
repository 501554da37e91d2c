// CPU twin of kernels/pool.cu: 2-D max and average pooling over NCHW planes, forward and backward.
// Arguments were validated by native/src/core/ops_pool.cpp before they get here; window math is
// kernels/common/pool_geometry.h, shared with the GPU, and results are bit-identical to it.
#pragma once

#include <cstdint>

#include "common/pool_geometry.h"

namespace kiln::cpu {

// x is (planes, h, w), y and index are (planes, p, q); planes = n * c. index gets row * w + col in the input plane.
void max_pool2d_f32(const PoolGeom& g, int64_t planes, const float* x, float* y, int32_t* index);
// dy and index are (planes, p, q), dx is (planes, h, w), assigned: dx[i] = sum of dy[o] over the outputs o whose
// window contains i and whose index is i (an index outside its own window is ignored).
void max_pool2d_backward_f32(const PoolGeom& g, int64_t planes, const float* dy, const int32_t* index, float* dx);
// x is (planes, h, w), y is (planes, p, q).
void avg_pool2d_f32(const PoolGeom& g, int64_t planes, const float* x, float* y, bool count_include_pad);
// dy is (planes, p, q), dx is (planes, h, w), assigned: dx[i] = sum of dy[o] / divisor(o) over windows o covering i.
void avg_pool2d_backward_f32(const PoolGeom& g, int64_t planes, const float* dy, float* dx, bool count_include_pad);

}  // namespace kiln::cpu

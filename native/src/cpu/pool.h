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

namespace pool_detail {
// 2x2 stride-2 unpadded max pooling, one output row: x0 and x1 are input rows 2 oh and 2 oh + 1 (base0 and base1 their
// offsets in the plane, for the indices), y and index the row's q outputs. pool_avx512.cpp; AVX-512 CPUs only.
void avx512_max_row_2x2(const float* x0, const float* x1, int64_t q, int32_t base0, int32_t base1, float* y,
                        int32_t* index);
// Its backward for one output row: assigns input columns [0, 2 q) of dx rows dx0 and dx1.
void avx512_max_backward_row_2x2(const float* dy, const int32_t* index, int64_t q, int32_t base0, int32_t base1,
                                 float* dx0, float* dx1);
// Makes later calls take the generic loops even where the AVX-512 rows apply (true), so tests can compare the two.
void force_generic_for_testing(bool on);
}  // namespace pool_detail

}  // namespace kiln::cpu

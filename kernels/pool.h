// Host launchers of kernels/pool.cu: 2-D max and average pooling over NCHW planes, forward and backward. Pointers are
// device memory; arguments were validated by native/src/core/ops_pool.cpp. Each launcher queues one kernel on the
// stream and returns cudaGetLastError(); none synchronizes or needs scratch memory.
#pragma once

#include "common/cuda_api.h"

#include <cstdint>

#include "common/pool_geometry.h"

namespace kiln::cuda {

// x is (planes, h, w), y and index are (planes, p, q); planes = n * c >= 1.
cudaError_t max_pool2d_f32(cudaStream_t s, const PoolGeom& g, int64_t planes, const float* x, float* y,
                           int32_t* index);
// dy and index are (planes, p, q), dx is (planes, h, w), assigned.
cudaError_t max_pool2d_backward_f32(cudaStream_t s, const PoolGeom& g, int64_t planes, const float* dy,
                                    const int32_t* index, float* dx);
// x is (planes, h, w), y is (planes, p, q).
cudaError_t avg_pool2d_f32(cudaStream_t s, const PoolGeom& g, int64_t planes, const float* x, float* y,
                           bool count_include_pad);
// dy is (planes, p, q), dx is (planes, h, w), assigned.
cudaError_t avg_pool2d_backward_f32(cudaStream_t s, const PoolGeom& g, int64_t planes, const float* dy, float* dx,
                                    bool count_include_pad);

}  // namespace kiln::cuda

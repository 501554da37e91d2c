// CPU twin of kernels/conv2d.cu: the entries of 2-D convolution (NCHW fp32) forward, backward-data and
// backward-weight that core calls, and the switches tests and benchmarks use. Arguments are validated by
// native/src/core/ops_conv2d.cpp before they get here; the kernels' contracts between the conv2d*.cpp files are in
// cpu/conv2d_kernels.h; index math comes from kernels/common/conv_geometry.h.
#pragma once

#include <cstdint>

#include "common/conv_geometry.h"

namespace kiln::cpu {

// y (n, k, p, q) = conv(x (n, c, h, w), w (k, c, r, s)) + bias (k) (bias may be NULL). Assigns y.
void conv2d_forward_f32(const conv::Geometry& g, const float* x, const float* w, const float* bias, float* y);
// dx (n, c, h, w) from dy (n, k, p, q) and w (k, c, r, s). Assigns dx.
void conv2d_backward_data_f32(const conv::Geometry& g, const float* dy, const float* w, float* dx);
// dw (k, c, r, s) and, when dbias is not NULL, dbias (k) from x (n, c, h, w) and dy (n, k, p, q). Assigns both.
void conv2d_backward_weight_f32(const conv::Geometry& g, const float* x, const float* dy, float* dw, float* dbias);

// Scratch bytes one call of the largest direction uses for this shape with num_threads() threads: what the calling
// thread keeps cached between calls. Bounded by the blocking, never proportional to the batch.
uint64_t conv2d_workspace_bytes(const conv::Geometry& g);

// Which backward-weight micro-kernel the runtime dispatch picked ("avx512" or "baseline"), for the benchmark.
const char* conv2d_isa();

namespace conv2d_detail {
// Makes every later call use the portable kernels (true) or the dispatched ones again (false), so the tests cover
// the code a machine without AVX-512 runs. Not for use while conv calls are in flight.
void force_baseline_for_testing(bool on);
// Lets 3x3 stride-1 layers take the Winograd path (true, the default unless KILN_CONV_WINOGRAD=0) or keeps them on
// the implicit GEMM (false), so tests and benchmarks can run both. Not for use while conv calls are in flight.
void allow_winograd_for_testing(bool on);
// The algorithm the forward of this shape runs now: "winograd" or "implicit-gemm".
const char* conv2d_algorithm(const conv::Geometry& g);
}  // namespace conv2d_detail

}  // namespace kiln::cpu

// CPU twin of kernels/lstm.cu: one batch-first LSTM layer, forward and full backpropagation through time. Gate math
// from kernels/common/lstm_cell.h, GEMMs from cpu/gemm.h. Arguments were validated by native/src/core/ops_lstm.cpp.
#pragma once

#include <cstdint>

namespace kiln::cpu {

// x is (n, t, f); h0, c0 are (n, h) or NULL (zeros); w_ih is (4h, f), w_hh is (4h, h), bias is (4h), gates in
// order i, f, g, o. Writes y (n, t, h), h_n and c_n (n, h). reserve holds kiln::lstm::reserve_layout(n, t, h).total
// floats (see kernels/common/lstm_cell.h), or is NULL for inference (nothing kept; a (n, t, 4h) scratch is used).
void lstm_forward_f32(int64_t n, int64_t t, int64_t f, int64_t h, const float* x, const float* h0, const float* c0,
                      const float* w_ih, const float* w_hh, const float* bias, float* y, float* h_n, float* c_n,
                      float* reserve);

// Full BPTT from dy (n, t, h) and dh_n, dc_n (n, h) or NULL (zero). reserve is what lstm_forward_f32 kept for the
// same x, c0 and weights (h0 is inside it). Assigns dx (n, t, f), dh0, dc0 (n, h) (each NULL: not wanted),
// dw_ih (4h, f), dw_hh (4h, h), dbias (4h). w_ih is read only for dx.
void lstm_backward_f32(int64_t n, int64_t t, int64_t f, int64_t h, const float* x, const float* c0, const float* w_ih,
                       const float* w_hh, const float* reserve, const float* dy, const float* dh_n, const float* dc_n,
                       float* dx, float* dh0, float* dc0, float* dw_ih, float* dw_hh, float* dbias);

}  // namespace kiln::cpu

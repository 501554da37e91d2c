// The lstm family's backend entries: kiln::cpu (native/src/cpu/lstm.cpp, GEMMs from cpu/sgemm.h) and kiln::cuda (host
// launchers of kernels/lstm.cu): one batch-first LSTM layer, forward and full backpropagation through time. Arguments
// were validated by native/src/core/ops_lstm.cpp. Gate math and the reserve layout, kiln::lstm::reserve_layout, are
// kernels/common/lstm_cell.h: the same on both backends, so the parity harness compares the reserve too.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/cuda_api.h"
#include "common/scratch.h"

namespace kiln::cpu {

// x is (n, t, f); h0, c0 are (n, h) or NULL (zeros); w_ih is (4h, f), w_hh is (4h, h), bias is (4h), gates in
// order i, f, g, o. Writes y (n, t, h), h_n and c_n (n, h). reserve holds kiln::lstm::reserve_layout(n, t, h).total
// floats, or is NULL for inference (nothing kept; on the CPU a (n, t, 4h) scratch is used).
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

// The same entries on the GPU; pointers are device memory. Launchers queue work on stream s, never synchronize, and
// return the launch's cudaError_t. Shapes as in the CPU block above.
namespace kiln::cuda {

// Which forward implementation runs. Auto picks Persistent when it applies (h <= 256, small batch, the slice of
// w_hh and the staged h_{t-1} fit one block's shared memory, every block co-resident) and Step otherwise.
//   Step:       per step, the recurrent GEMM (kernels/gemm.h) and one fused cell kernel.
//   Persistent: one cooperative kernel for all steps; each block keeps its hidden units' rows of w_hh in shared
//               memory across steps and the blocks meet at a grid-wide barrier once per step.
enum class LstmPath { Auto = 0, Step = 1, Persistent = 2 };

// Device scratch (bytes) the forward needs beyond the reserve: the (n, t, 4h) pre-activations in inference
// (reserve == NULL; when training they live in the reserve's gates), plus the barrier counter of the persistent
// kernel. Depends on the current device (the persistent kernel's fit), so query it right before the launch.
size_t lstm_forward_workspace_bytes(int64_t n, int64_t t, int64_t f, int64_t h, bool training, LstmPath path);

// Takes lstm_forward_workspace_bytes(...) of scratch. Runs LstmPath::Auto; lstm_forward_on_path_f32 picks the path
// (benchmarks, tests). Path::Persistent where it does not apply returns cudaErrorInvalidConfiguration.
cudaError_t lstm_forward_f32(cudaStream_t s, Scratch& scratch, int64_t n, int64_t t, int64_t f, int64_t h,
                             const float* x, const float* h0, const float* c0, const float* w_ih, const float* w_hh,
                             const float* bias, float* y, float* h_n, float* c_n, float* reserve);
cudaError_t lstm_forward_on_path_f32(cudaStream_t s, Scratch& scratch, LstmPath path, int64_t n, int64_t t, int64_t f,
                                     int64_t h, const float* x, const float* h0, const float* c0, const float* w_ih,
                                     const float* w_hh, const float* bias, float* y, float* h_n, float* c_n,
                                     float* reserve);

// Whether Auto would run the persistent forward for this shape on the current device.
bool lstm_forward_uses_persistent(int64_t n, int64_t t, int64_t h);

// Device scratch (bytes) the backward needs: dgates (n, t, 4h) and the running dh, dc (n, h). The reserve is
// read-only in the backward (a caller may run it twice), so this cannot live there.
size_t lstm_backward_workspace_bytes(int64_t n, int64_t t, int64_t f, int64_t h);

// Takes lstm_backward_workspace_bytes(...) of scratch.
cudaError_t lstm_backward_f32(cudaStream_t s, Scratch& scratch, int64_t n, int64_t t, int64_t f, int64_t h,
                              const float* x, const float* c0, const float* w_ih, const float* w_hh,
                              const float* reserve, const float* dy, const float* dh_n, const float* dc_n, float* dx,
                              float* dh0, float* dc0, float* dw_ih, float* dw_hh, float* dbias);

}  // namespace kiln::cuda

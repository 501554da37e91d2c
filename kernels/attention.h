// The attention family's backend entries: kiln::cpu (native/src/cpu/attention.cpp) and kiln::cuda (host launchers of
// kernels/attention_f32.cu and kernels/attention_bf16.cu, the latter on tensor cores, mma.sync, sm_80+): fused
// flash-style attention, forward and backward. The descriptor was validated by native/src/core/ops_attention.cpp;
// shapes, strides, masks and dropout as in kiln.h's kiln_attention_desc. The math of each element is
// kernels/common/attention_math.h, one text for both; the CPU blocks over query and key tiles, so its memory is O(tile
// x head_dim) per thread, never O(q_len x kv_len).
#pragma once

#include <cstdint>

#include "common/cuda_api.h"
#include "common/scratch.h"
#include "kiln/kiln.h"

namespace kiln::cpu {

// o (batch, heads, q_len, head_dim at o's strides); lse (batch, heads, q_len) or NULL; kv_lengths (batch) or NULL.
void attention_forward_f32(const kiln_attention_desc& d, const float* q, const float* k, const float* v,
                           const int32_t* kv_lengths, float* o, float* lse);
// dq, dk, dv (each may be NULL) at the strides of q, k, v.
void attention_backward_f32(const kiln_attention_desc& d, const float* q, const float* k, const float* v,
                            const float* o, const float* dout, const float* lse, const int32_t* kv_lengths, float* dq,
                            float* dk, float* dv);
// bf16: on the CPU, the fp32 path on widened inputs, each output rounded once (kernels/common/bf16.h).
void attention_forward_bf16(const kiln_attention_desc& d, const kiln_bf16* q, const kiln_bf16* k, const kiln_bf16* v,
                            const int32_t* kv_lengths, kiln_bf16* o, float* lse);
void attention_backward_bf16(const kiln_attention_desc& d, const kiln_bf16* q, const kiln_bf16* k,
                             const kiln_bf16* v, const kiln_bf16* o, const kiln_bf16* dout, const float* lse,
                             const int32_t* kv_lengths, kiln_bf16* dq, kiln_bf16* dk, kiln_bf16* dv);

}  // namespace kiln::cpu

// The same entries on the GPU, queued on stream s; pointers are device memory. Shapes as in the CPU block above.
namespace kiln::cuda {

cudaError_t attention_forward_f32(cudaStream_t s, const kiln_attention_desc& d, const float* q, const float* k,
                                  const float* v, const int32_t* kv_lengths, float* o, float* lse);
// delta = rowsum(dout * o) goes to scratch first. No float atomics: dk/dv and dq are computed by separate passes so
// every sum has one owner and a fixed order.
cudaError_t attention_backward_f32(cudaStream_t s, Scratch& scratch, const kiln_attention_desc& d, const float* q,
                                   const float* k, const float* v, const float* o, const float* dout, const float* lse,
                                   const int32_t* kv_lengths, float* dq, float* dk, float* dv);
cudaError_t attention_forward_bf16(cudaStream_t s, const kiln_attention_desc& d, const kiln_bf16* q,
                                   const kiln_bf16* k, const kiln_bf16* v, const int32_t* kv_lengths, kiln_bf16* o,
                                   float* lse);
cudaError_t attention_backward_bf16(cudaStream_t s, Scratch& scratch, const kiln_attention_desc& d,
                                    const kiln_bf16* q, const kiln_bf16* k, const kiln_bf16* v, const kiln_bf16* o,
                                    const kiln_bf16* dout, const float* lse, const int32_t* kv_lengths, kiln_bf16* dq,
                                    kiln_bf16* dk, kiln_bf16* dv);

}  // namespace kiln::cuda

// Host launchers of kernels/attention.cu: fused flash-style attention, forward and backward, fp32 and bf16 (tensor
// cores, mma.sync, on sm_80+). Pointers are device memory; the descriptor was validated by
// native/src/core/ops_attention.cpp; shapes, strides, masks and dropout as in kiln.h's kiln_attention_desc. The math of
// each element is kernels/common/attention_math.h, shared with native/src/cpu/attention.cpp.
#pragma once

#include <cstdint>

#include "common/cuda_api.h"
#include "common/scratch.h"
#include "kiln/kiln.h"

namespace kiln::cuda {

// o (batch, heads, q_len, head_dim at o's strides); lse (batch, heads, q_len) or NULL; kv_lengths (batch) or NULL.
cudaError_t attention_forward_f32(cudaStream_t s, const kiln_attention_desc& d, const float* q, const float* k,
                                  const float* v, const int32_t* kv_lengths, float* o, float* lse);
// dq, dk, dv (each may be NULL) at the strides of q, k, v; delta = rowsum(dout * o) goes to scratch first. No float
// atomics: dk/dv and dq are computed by separate passes so every sum has one owner and a fixed order.
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

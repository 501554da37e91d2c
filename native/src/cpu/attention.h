// CPU twin of kernels/attention.cu: fused attention with the same online-softmax recurrence
// (kernels/common/attention_math.h), blocked over query and key tiles so that memory is O(tile x head_dim) per
// thread, never O(q_len x kv_len). Arguments were validated by native/src/core/ops_attention.cpp; shapes, strides,
// masks and dropout as in kiln.h's kiln_attention_desc.
#pragma once

#include <cstdint>

#include "kiln/kiln.h"

namespace kiln::cpu {

void attention_forward_f32(const kiln_attention_desc& d, const float* q, const float* k, const float* v,
                           const int32_t* kv_lengths, float* o, float* lse);
void attention_backward_f32(const kiln_attention_desc& d, const float* q, const float* k, const float* v,
                            const float* o, const float* dout, const float* lse, const int32_t* kv_lengths, float* dq,
                            float* dk, float* dv);
// bf16: the fp32 path on widened inputs, each output rounded once (kernels/common/bf16.h).
void attention_forward_bf16(const kiln_attention_desc& d, const kiln_bf16* q, const kiln_bf16* k, const kiln_bf16* v,
                            const int32_t* kv_lengths, kiln_bf16* o, float* lse);
void attention_backward_bf16(const kiln_attention_desc& d, const kiln_bf16* q, const kiln_bf16* k,
                             const kiln_bf16* v, const kiln_bf16* o, const kiln_bf16* dout, const float* lse,
                             const int32_t* kv_lengths, kiln_bf16* dq, kiln_bf16* dk, kiln_bf16* dv);

}  // namespace kiln::cpu

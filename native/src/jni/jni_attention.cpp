// JNI glue for dev.kiln.internal.AttentionNative: fused attention forward and backward, fp32 and bf16. The AttentionDesc
// record carries the integer part of kiln_attention_desc (sizes, the four stride triples flattened, causal) through the
// field table below; scale, dropout and the Philox stream, which the record reader (long fields only) cannot carry,
// come as arguments. Glue only: the shape rules live in native/src/core/ops_attention.cpp.
#include <cstdint>

#include "jni/jni_record.h"
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

// The record's image in C: kiln_attention_desc's int64 fields, in the record's order, with causal widened to int64
// so that the struct has no padding (jni_record.h checks the table covers it exactly).
struct AttentionShape {
    int64_t batch, heads, q_len, kv_len, head_dim;
    int64_t q_stride_batch, q_stride_head, q_stride_token;
    int64_t k_stride_batch, k_stride_head, k_stride_token;
    int64_t v_stride_batch, v_stride_head, v_stride_token;
    int64_t o_stride_batch, o_stride_head, o_stride_token;
    int64_t causal;
};

constexpr RecordField kAttentionFields[] = {
    KILN_RECORD_FIELD(AttentionShape, batch, "batch"),
    KILN_RECORD_FIELD(AttentionShape, heads, "heads"),
    KILN_RECORD_FIELD(AttentionShape, q_len, "qLen"),
    KILN_RECORD_FIELD(AttentionShape, kv_len, "kvLen"),
    KILN_RECORD_FIELD(AttentionShape, head_dim, "headDim"),
    KILN_RECORD_FIELD(AttentionShape, q_stride_batch, "qStrideBatch"),
    KILN_RECORD_FIELD(AttentionShape, q_stride_head, "qStrideHead"),
    KILN_RECORD_FIELD(AttentionShape, q_stride_token, "qStrideToken"),
    KILN_RECORD_FIELD(AttentionShape, k_stride_batch, "kStrideBatch"),
    KILN_RECORD_FIELD(AttentionShape, k_stride_head, "kStrideHead"),
    KILN_RECORD_FIELD(AttentionShape, k_stride_token, "kStrideToken"),
    KILN_RECORD_FIELD(AttentionShape, v_stride_batch, "vStrideBatch"),
    KILN_RECORD_FIELD(AttentionShape, v_stride_head, "vStrideHead"),
    KILN_RECORD_FIELD(AttentionShape, v_stride_token, "vStrideToken"),
    KILN_RECORD_FIELD(AttentionShape, o_stride_batch, "oStrideBatch"),
    KILN_RECORD_FIELD(AttentionShape, o_stride_head, "oStrideHead"),
    KILN_RECORD_FIELD(AttentionShape, o_stride_token, "oStrideToken"),
    KILN_RECORD_FIELD(AttentionShape, causal, "causal"),
};
KILN_JNI_DESCRIPTOR(kAttentionDesc, "dev/kiln/internal/AttentionDesc", AttentionShape, kAttentionFields);

// The full descriptor from the record and the scalar arguments; false with a pending exception.
bool read_desc(JNIEnv* env, jobject record, jfloat scale, jfloat dropout, jlong seed, jlong offset,
               kiln_attention_desc* d) {
    AttentionShape s;
    if (!kAttentionDesc.read(env, record, &s)) return false;
    if (s.causal != 0 && s.causal != 1) {  // int32 in C: say so here rather than let a truncation pass
        throw_illegal_argument(env, "kiln_attention_desc: causal must be 0 or 1");
        return false;
    }
    d->batch = s.batch, d->heads = s.heads, d->q_len = s.q_len, d->kv_len = s.kv_len, d->head_dim = s.head_dim;
    const int64_t* from[4] = {&s.q_stride_batch, &s.k_stride_batch, &s.v_stride_batch, &s.o_stride_batch};
    int64_t* to[4] = {d->q_stride, d->k_stride, d->v_stride, d->o_stride};
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 3; ++j) to[i][j] = from[i][j];
    d->scale = scale;
    d->causal = (int32_t)s.causal;
    d->dropout = dropout;
    d->seed = (uint64_t)seed, d->offset = (uint64_t)offset;
    return true;
}

// q, k, v at their strides; kv_lengths (batch) int32 or 0; o at its strides; lse (batch, heads, q_len) or 0.
void forward(JNIEnv* env, jclass, jlong ctx, jobject desc, jfloat scale, jfloat dropout, jlong seed, jlong offset,
             jlong q, jlong k, jlong v, jlong kv_lengths, jlong o, jlong lse) {
    kiln_attention_desc d;
    if (!read_desc(env, desc, scale, dropout, seed, offset, &d)) return;
    throw_if_failed(env, kiln_attention_forward_f32(ctx_of(ctx), &d, ptr_of<const float>(q), ptr_of<const float>(k),
                                                    ptr_of<const float>(v), ptr_of<const int32_t>(kv_lengths),
                                                    ptr_of<float>(o), ptr_of<float>(lse)));
}

// dq, dk, dv (each 0: not wanted) at the strides of q, k, v, from dout at o's strides and the forward's o and lse.
void backward(JNIEnv* env, jclass, jlong ctx, jobject desc, jfloat scale, jfloat dropout, jlong seed, jlong offset,
              jlong q, jlong k, jlong v, jlong o, jlong dout, jlong lse, jlong kv_lengths, jlong dq, jlong dk,
              jlong dv) {
    kiln_attention_desc d;
    if (!read_desc(env, desc, scale, dropout, seed, offset, &d)) return;
    throw_if_failed(env, kiln_attention_backward_f32(ctx_of(ctx), &d, ptr_of<const float>(q), ptr_of<const float>(k),
                                                     ptr_of<const float>(v), ptr_of<const float>(o),
                                                     ptr_of<const float>(dout), ptr_of<const float>(lse),
                                                     ptr_of<const int32_t>(kv_lengths), ptr_of<float>(dq),
                                                     ptr_of<float>(dk), ptr_of<float>(dv)));
}

void forward_bf16(JNIEnv* env, jclass, jlong ctx, jobject desc, jfloat scale, jfloat dropout, jlong seed,
                  jlong offset, jlong q, jlong k, jlong v, jlong kv_lengths, jlong o, jlong lse) {
    kiln_attention_desc d;
    if (!read_desc(env, desc, scale, dropout, seed, offset, &d)) return;
    throw_if_failed(env, kiln_attention_forward_bf16(ctx_of(ctx), &d, ptr_of<const kiln_bf16>(q),
                                                     ptr_of<const kiln_bf16>(k), ptr_of<const kiln_bf16>(v),
                                                     ptr_of<const int32_t>(kv_lengths), ptr_of<kiln_bf16>(o),
                                                     ptr_of<float>(lse)));
}

void backward_bf16(JNIEnv* env, jclass, jlong ctx, jobject desc, jfloat scale, jfloat dropout, jlong seed,
                   jlong offset, jlong q, jlong k, jlong v, jlong o, jlong dout, jlong lse, jlong kv_lengths,
                   jlong dq, jlong dk, jlong dv) {
    kiln_attention_desc d;
    if (!read_desc(env, desc, scale, dropout, seed, offset, &d)) return;
    throw_if_failed(env, kiln_attention_backward_bf16(ctx_of(ctx), &d, ptr_of<const kiln_bf16>(q),
                                                      ptr_of<const kiln_bf16>(k), ptr_of<const kiln_bf16>(v),
                                                      ptr_of<const kiln_bf16>(o), ptr_of<const kiln_bf16>(dout),
                                                      ptr_of<const float>(lse), ptr_of<const int32_t>(kv_lengths),
                                                      ptr_of<kiln_bf16>(dq), ptr_of<kiln_bf16>(dk),
                                                      ptr_of<kiln_bf16>(dv)));
}

#define KILN_ATTENTION_DESC "Ldev/kiln/internal/AttentionDesc;"
const JNINativeMethod kMethods[] = {
    KILN_NATIVE("forward0", "(J" KILN_ATTENTION_DESC "FFJJJJJJJJ)V", forward),
    KILN_NATIVE("backward0", "(J" KILN_ATTENTION_DESC "FFJJJJJJJJJJJJ)V", backward),
    KILN_NATIVE("forwardBf160", "(J" KILN_ATTENTION_DESC "FFJJJJJJJJ)V", forward_bf16),
    KILN_NATIVE("backwardBf160", "(J" KILN_ATTENTION_DESC "FFJJJJJJJJJJJJ)V", backward_bf16),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/AttentionNative", kMethods);

}  // namespace kiln::jni

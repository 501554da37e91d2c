// The AttentionDesc record's layout: the field table below is the one place it meets kiln_attention_desc (each stride
// triple as three components, causal as a boolean). The four attention entries themselves are bound to
// dev.kiln.internal.AttentionNative from kiln.h (jni_abi.cpp), which reads the record through this table.
#include "jni/jni_record.h"
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

constexpr RecordField kAttentionFields[] = {
    KILN_RECORD_FIELD(kiln_attention_desc, batch, "batch"),
    KILN_RECORD_FIELD(kiln_attention_desc, heads, "heads"),
    KILN_RECORD_FIELD(kiln_attention_desc, q_len, "qLen"),
    KILN_RECORD_FIELD(kiln_attention_desc, kv_len, "kvLen"),
    KILN_RECORD_FIELD(kiln_attention_desc, head_dim, "headDim"),
    KILN_RECORD_FIELD(kiln_attention_desc, q_stride[0], "qStrideBatch"),
    KILN_RECORD_FIELD(kiln_attention_desc, q_stride[1], "qStrideHead"),
    KILN_RECORD_FIELD(kiln_attention_desc, q_stride[2], "qStrideToken"),
    KILN_RECORD_FIELD(kiln_attention_desc, k_stride[0], "kStrideBatch"),
    KILN_RECORD_FIELD(kiln_attention_desc, k_stride[1], "kStrideHead"),
    KILN_RECORD_FIELD(kiln_attention_desc, k_stride[2], "kStrideToken"),
    KILN_RECORD_FIELD(kiln_attention_desc, v_stride[0], "vStrideBatch"),
    KILN_RECORD_FIELD(kiln_attention_desc, v_stride[1], "vStrideHead"),
    KILN_RECORD_FIELD(kiln_attention_desc, v_stride[2], "vStrideToken"),
    KILN_RECORD_FIELD(kiln_attention_desc, o_stride[0], "oStrideBatch"),
    KILN_RECORD_FIELD(kiln_attention_desc, o_stride[1], "oStrideHead"),
    KILN_RECORD_FIELD(kiln_attention_desc, o_stride[2], "oStrideToken"),
    KILN_RECORD_FIELD(kiln_attention_desc, scale, "scale"),
    KILN_RECORD_FLAG(kiln_attention_desc, causal, "causal"),
    KILN_RECORD_FIELD(kiln_attention_desc, dropout, "dropout"),
    KILN_RECORD_FIELD(kiln_attention_desc, seed, "seed"),
    KILN_RECORD_FIELD(kiln_attention_desc, offset, "offset"),
};
// Four bytes of alignment padding sit between dropout and the uint64 seed.
KILN_JNI_DESCRIPTOR_PADDED(kAttentionDesc, "dev/kiln/internal/AttentionDesc", kiln_attention_desc, kAttentionFields, 4);

}  // namespace

}  // namespace kiln::jni

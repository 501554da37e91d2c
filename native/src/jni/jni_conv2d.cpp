// The Conv2dDesc record's layout (the field table below is the one place it meets kiln_conv2d_desc), through which
// the convolution entries bound from kiln.h (jni_abi.cpp) read their descriptor; and the workspace-size query, whose
// host out-parameter has no Java form, by hand. Glue only: the shape rules live in native/src/core/ops_conv2d.cpp.
#include <cstdint>

#include "jni/jni_record.h"
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

constexpr RecordField kConv2dFields[] = {
    KILN_RECORD_FIELD(kiln_conv2d_desc, n, "n"),
    KILN_RECORD_FIELD(kiln_conv2d_desc, c, "c"),
    KILN_RECORD_FIELD(kiln_conv2d_desc, h, "h"),
    KILN_RECORD_FIELD(kiln_conv2d_desc, w, "w"),
    KILN_RECORD_FIELD(kiln_conv2d_desc, k, "k"),
    KILN_RECORD_FIELD(kiln_conv2d_desc, r, "r"),
    KILN_RECORD_FIELD(kiln_conv2d_desc, s, "s"),
    KILN_RECORD_FIELD(kiln_conv2d_desc, stride_h, "strideH"),
    KILN_RECORD_FIELD(kiln_conv2d_desc, stride_w, "strideW"),
    KILN_RECORD_FIELD(kiln_conv2d_desc, pad_h, "padH"),
    KILN_RECORD_FIELD(kiln_conv2d_desc, pad_w, "padW"),
    KILN_RECORD_FIELD(kiln_conv2d_desc, dilation_h, "dilationH"),
    KILN_RECORD_FIELD(kiln_conv2d_desc, dilation_w, "dilationW"),
    KILN_RECORD_FIELD(kiln_conv2d_desc, p, "p"),
    KILN_RECORD_FIELD(kiln_conv2d_desc, q, "q"),
};
KILN_JNI_DESCRIPTOR(kConv2dDesc, "dev/kiln/internal/Conv2dDesc", kiln_conv2d_desc, kConv2dFields);

jlong workspace_size(JNIEnv* env, jclass, jobject desc) {
    kiln_conv2d_desc d;
    if (!kConv2dDesc.read(env, desc, &d)) return 0;
    uint64_t bytes = 0;
    if (throw_if_failed(env, kiln_conv2d_workspace_size(&d, &bytes))) return 0;
    return (jlong)bytes;
}

#define KILN_CONV2D_DESC "Ldev/kiln/internal/Conv2dDesc;"
const JNINativeMethod kMethods[] = {
    KILN_NATIVE("workspaceSize0", "(" KILN_CONV2D_DESC ")J", workspace_size),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/Conv2dNative", kMethods);

}  // namespace kiln::jni

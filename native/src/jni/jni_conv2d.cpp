// JNI glue for dev.kiln.internal.Conv2dNative: reads the Conv2dDesc record into a kiln_conv2d_desc (the field table
// below is the one place their layouts meet) and calls the C ABI. Glue only: the shape rules live in
// native/src/core/ops_conv2d.cpp.
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

// x (n, c, h, w), w (k, c, r, s), bias (k) or 0, y (n, k, p, q).
void forward(JNIEnv* env, jclass, jlong ctx, jobject desc, jlong x, jlong w, jlong bias, jlong y) {
    kiln_conv2d_desc d;
    if (!kConv2dDesc.read(env, desc, &d)) return;
    throw_if_failed(env, kiln_conv2d_forward_f32(ctx_of(ctx), &d, ptr_of<const float>(x), ptr_of<const float>(w),
                                                 ptr_of<const float>(bias), ptr_of<float>(y)));
}

// dy (n, k, p, q), w (k, c, r, s) -> dx (n, c, h, w).
void backward_data(JNIEnv* env, jclass, jlong ctx, jobject desc, jlong dy, jlong w, jlong dx) {
    kiln_conv2d_desc d;
    if (!kConv2dDesc.read(env, desc, &d)) return;
    throw_if_failed(env, kiln_conv2d_backward_data_f32(ctx_of(ctx), &d, ptr_of<const float>(dy),
                                                       ptr_of<const float>(w), ptr_of<float>(dx)));
}

// x (n, c, h, w), dy (n, k, p, q) -> dw (k, c, r, s) and dbias (k) unless 0.
void backward_weight(JNIEnv* env, jclass, jlong ctx, jobject desc, jlong x, jlong dy, jlong dw, jlong dbias) {
    kiln_conv2d_desc d;
    if (!kConv2dDesc.read(env, desc, &d)) return;
    throw_if_failed(env, kiln_conv2d_backward_weight_f32(ctx_of(ctx), &d, ptr_of<const float>(x),
                                                         ptr_of<const float>(dy), ptr_of<float>(dw),
                                                         ptr_of<float>(dbias)));
}

jlong workspace_size(JNIEnv* env, jclass, jobject desc) {
    kiln_conv2d_desc d;
    if (!kConv2dDesc.read(env, desc, &d)) return 0;
    uint64_t bytes = 0;
    if (throw_if_failed(env, kiln_conv2d_workspace_size(&d, &bytes))) return 0;
    return (jlong)bytes;
}

#define KILN_CONV2D_DESC "Ldev/kiln/internal/Conv2dDesc;"
const JNINativeMethod kMethods[] = {
    KILN_NATIVE("forward0", "(J" KILN_CONV2D_DESC "JJJJ)V", forward),
    KILN_NATIVE("backwardData0", "(J" KILN_CONV2D_DESC "JJJ)V", backward_data),
    KILN_NATIVE("backwardWeight0", "(J" KILN_CONV2D_DESC "JJJJ)V", backward_weight),
    KILN_NATIVE("workspaceSize0", "(" KILN_CONV2D_DESC ")J", workspace_size),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/Conv2dNative", kMethods);

}  // namespace kiln::jni

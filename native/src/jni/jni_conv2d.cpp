// JNI glue for 2-D convolution: unpacks the Java descriptor (long[15]: n, c, h, w, k, r, s, strideH, strideW, padH,
// padW, dilationH, dilationW, p, q) into a kiln_conv2d_desc and calls the C ABI. Glue only: the shape rules live in
// native/src/core/ops_conv2d.cpp.
#include <cstdint>
#include <cstdio>

#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

constexpr int kConvDescLength = 15;

// Fills d from the Java array; false (with a pending exception) when the array is malformed or a stride, padding or
// dilation does not fit the descriptor's int32 (a silent truncation would turn a bad call into a wrong one).
bool conv_desc(JNIEnv* env, jlongArray desc, kiln_conv2d_desc* d) {
    jlong v[kConvDescLength];
    if (!read_desc(env, desc, kConvDescLength, v)) return false;
    static const char* const kNames[6] = {"strideH", "strideW", "padH", "padW", "dilationH", "dilationW"};
    for (int i = 0; i < 6; ++i) {
        const jlong x = v[7 + i];
        if (x < INT32_MIN || x > INT32_MAX) {
            char msg[160];
            std::snprintf(msg, sizeof msg, "conv2d descriptor: %s = %lld does not fit in 32 bits", kNames[i],
                          (long long)x);
            throw_illegal_argument(env, msg);
            return false;
        }
    }
    d->n = v[0], d->c = v[1], d->h = v[2], d->w = v[3];
    d->k = v[4], d->r = v[5], d->s = v[6];
    d->stride_h = (int32_t)v[7], d->stride_w = (int32_t)v[8];
    d->pad_h = (int32_t)v[9], d->pad_w = (int32_t)v[10];
    d->dilation_h = (int32_t)v[11], d->dilation_w = (int32_t)v[12];
    d->p = v[13], d->q = v[14];
    return true;
}

// x (n, c, h, w), w (k, c, r, s), bias (k) or 0, y (n, k, p, q).
void forward(JNIEnv* env, jclass, jlong ctx, jlongArray desc, jlong x, jlong w, jlong bias, jlong y) {
    kiln_conv2d_desc d;
    if (!conv_desc(env, desc, &d)) return;
    throw_if_failed(env, kiln_conv2d_forward_f32(ctx_of(ctx), &d, ptr_of<const float>(x), ptr_of<const float>(w),
                                                 ptr_of<const float>(bias), ptr_of<float>(y)));
}

// dy (n, k, p, q), w (k, c, r, s) -> dx (n, c, h, w).
void backward_data(JNIEnv* env, jclass, jlong ctx, jlongArray desc, jlong dy, jlong w, jlong dx) {
    kiln_conv2d_desc d;
    if (!conv_desc(env, desc, &d)) return;
    throw_if_failed(env, kiln_conv2d_backward_data_f32(ctx_of(ctx), &d, ptr_of<const float>(dy),
                                                       ptr_of<const float>(w), ptr_of<float>(dx)));
}

// x (n, c, h, w), dy (n, k, p, q) -> dw (k, c, r, s) and dbias (k) unless 0.
void backward_weight(JNIEnv* env, jclass, jlong ctx, jlongArray desc, jlong x, jlong dy, jlong dw, jlong dbias) {
    kiln_conv2d_desc d;
    if (!conv_desc(env, desc, &d)) return;
    throw_if_failed(env, kiln_conv2d_backward_weight_f32(ctx_of(ctx), &d, ptr_of<const float>(x),
                                                         ptr_of<const float>(dy), ptr_of<float>(dw),
                                                         ptr_of<float>(dbias)));
}

jlong workspace_size(JNIEnv* env, jclass, jlongArray desc) {
    kiln_conv2d_desc d;
    if (!conv_desc(env, desc, &d)) return 0;
    uint64_t bytes = 0;
    if (throw_if_failed(env, kiln_conv2d_workspace_size(&d, &bytes))) return 0;
    return (jlong)bytes;
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("conv2dForward0", "(J[JJJJJ)V", forward),
    KILN_NATIVE("conv2dBackwardData0", "(J[JJJJ)V", backward_data),
    KILN_NATIVE("conv2dBackwardWeight0", "(J[JJJJJ)V", backward_weight),
    KILN_NATIVE("conv2dWorkspaceSize0", "([J)J", workspace_size),
};

}  // namespace

bool register_conv2d_natives(JNIEnv* env, jclass native_class) {
    return env->RegisterNatives(native_class, kMethods, sizeof(kMethods) / sizeof(kMethods[0])) == JNI_OK;
}

}  // namespace kiln::jni

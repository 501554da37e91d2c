// JNI glue for 2-D max and average pooling: unpacks the long[12] descriptor (n, c, h, w, kernelH, kernelW, strideH,
// strideW, padH, padW, p, q) into a kiln_pool2d_desc and calls the C ABI. Glue only: no math.
#include <cstdint>
#include <cstdio>

#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

constexpr int kPoolDescLength = 12;

// Fills d from the Java descriptor; false (with a pending exception) when it is malformed. The int32 fields are
// range-checked here, because a silently truncated kernel or stride could pass the C ABI's validation as another
// shape.
bool read_pool_desc(JNIEnv* env, jlongArray desc, kiln_pool2d_desc* d) {
    jlong v[kPoolDescLength];
    if (!read_desc(env, desc, kPoolDescLength, v)) return false;
    static const char* const kNames[] = {"kernelH", "kernelW", "strideH", "strideW", "padH", "padW"};
    for (int i = 4; i < 10; ++i) {
        if (v[i] < INT32_MIN || v[i] > INT32_MAX) {
            char msg[160];
            std::snprintf(msg, sizeof(msg), "pooling descriptor: %s = %lld does not fit in int32", kNames[i - 4],
                          (long long)v[i]);
            throw_illegal_argument(env, msg);
            return false;
        }
    }
    d->n = v[0];
    d->c = v[1];
    d->h = v[2];
    d->w = v[3];
    d->kernel_h = (int32_t)v[4];
    d->kernel_w = (int32_t)v[5];
    d->stride_h = (int32_t)v[6];
    d->stride_w = (int32_t)v[7];
    d->pad_h = (int32_t)v[8];
    d->pad_w = (int32_t)v[9];
    d->p = v[10];
    d->q = v[11];
    return true;
}

void max_pool2d(JNIEnv* env, jclass, jlong ctx, jlongArray desc, jlong x, jlong y, jlong index) {
    kiln_pool2d_desc d;
    if (!read_pool_desc(env, desc, &d)) return;
    throw_if_failed(env, kiln_max_pool2d_f32(ctx_of(ctx), &d, ptr_of<const float>(x), ptr_of<float>(y),
                                             ptr_of<int32_t>(index)));
}

void max_pool2d_backward(JNIEnv* env, jclass, jlong ctx, jlongArray desc, jlong dy, jlong index, jlong dx) {
    kiln_pool2d_desc d;
    if (!read_pool_desc(env, desc, &d)) return;
    throw_if_failed(env, kiln_max_pool2d_backward_f32(ctx_of(ctx), &d, ptr_of<const float>(dy),
                                                      ptr_of<const int32_t>(index), ptr_of<float>(dx)));
}

void avg_pool2d(JNIEnv* env, jclass, jlong ctx, jlongArray desc, jlong x, jlong y, jboolean count_include_pad) {
    kiln_pool2d_desc d;
    if (!read_pool_desc(env, desc, &d)) return;
    throw_if_failed(env, kiln_avg_pool2d_f32(ctx_of(ctx), &d, ptr_of<const float>(x), ptr_of<float>(y),
                                             count_include_pad ? 1 : 0));
}

void avg_pool2d_backward(JNIEnv* env, jclass, jlong ctx, jlongArray desc, jlong dy, jlong dx,
                         jboolean count_include_pad) {
    kiln_pool2d_desc d;
    if (!read_pool_desc(env, desc, &d)) return;
    throw_if_failed(env, kiln_avg_pool2d_backward_f32(ctx_of(ctx), &d, ptr_of<const float>(dy), ptr_of<float>(dx),
                                                      count_include_pad ? 1 : 0));
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("maxPool2d0", "(J[JJJJ)V", max_pool2d),
    KILN_NATIVE("maxPool2dBackward0", "(J[JJJJ)V", max_pool2d_backward),
    KILN_NATIVE("avgPool2d0", "(J[JJJZ)V", avg_pool2d),
    KILN_NATIVE("avgPool2dBackward0", "(J[JJJZ)V", avg_pool2d_backward),
};

}  // namespace

bool register_pool_natives(JNIEnv* env, jclass native_class) {
    return env->RegisterNatives(native_class, kMethods, sizeof(kMethods) / sizeof(kMethods[0])) == JNI_OK;
}

}  // namespace kiln::jni

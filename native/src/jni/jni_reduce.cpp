// JNI glue for dev.kiln.internal.ReduceNative: sums over an axis, max over the last dimension, sum of squares,
// softmax. Glue only: handles in, the C ABI call, a failed status out as a Java exception.
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

void reduce_sum(JNIEnv* env, jclass, jlong ctx, jlong x, jlong y, jlong outer, jlong len, jlong inner, jfloat scale) {
    throw_if_failed(env, kiln_reduce_sum_f32(ctx_of(ctx), ptr_of<const float>(x), ptr_of<float>(y), outer, len, inner,
                                             scale));
}

void reduce_sum_backward(JNIEnv* env, jclass, jlong ctx, jlong dy, jlong dx, jlong outer, jlong len, jlong inner,
                         jfloat scale) {
    throw_if_failed(env, kiln_reduce_sum_backward_f32(ctx_of(ctx), ptr_of<const float>(dy), ptr_of<float>(dx), outer,
                                                      len, inner, scale));
}

void max_last_dim(JNIEnv* env, jclass, jlong ctx, jlong x, jlong y, jlong index, jlong rows, jlong cols) {
    throw_if_failed(env, kiln_max_lastdim_f32(ctx_of(ctx), ptr_of<const float>(x), ptr_of<float>(y),
                                              ptr_of<int32_t>(index), rows, cols));
}

void max_last_dim_backward(JNIEnv* env, jclass, jlong ctx, jlong dy, jlong index, jlong dx, jlong rows, jlong cols) {
    throw_if_failed(env, kiln_max_lastdim_backward_f32(ctx_of(ctx), ptr_of<const float>(dy),
                                                       ptr_of<const int32_t>(index), ptr_of<float>(dx), rows, cols));
}

void sum_squares(JNIEnv* env, jclass, jlong ctx, jlong x, jlong n, jlong out) {
    throw_if_failed(env, kiln_sum_squares_f32(ctx_of(ctx), ptr_of<const float>(x), n, ptr_of<float>(out)));
}

void softmax(JNIEnv* env, jclass, jlong ctx, jlong x, jlong y, jlong rows, jlong cols, jint log) {
    throw_if_failed(env, kiln_softmax_f32(ctx_of(ctx), ptr_of<const float>(x), ptr_of<float>(y), rows, cols, log));
}

void softmax_backward(JNIEnv* env, jclass, jlong ctx, jlong y, jlong dy, jlong dx, jlong rows, jlong cols, jint log) {
    throw_if_failed(env, kiln_softmax_backward_f32(ctx_of(ctx), ptr_of<const float>(y), ptr_of<const float>(dy),
                                                   ptr_of<float>(dx), rows, cols, log));
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("sum0", "(JJJJJJF)V", reduce_sum),
    KILN_NATIVE("sumBackward0", "(JJJJJJF)V", reduce_sum_backward),
    KILN_NATIVE("maxLastDim0", "(JJJJJJ)V", max_last_dim),
    KILN_NATIVE("maxLastDimBackward0", "(JJJJJJ)V", max_last_dim_backward),
    KILN_NATIVE("sumSquares0", "(JJJJ)V", sum_squares),
    KILN_NATIVE("softmax0", "(JJJJJI)V", softmax),
    KILN_NATIVE("softmaxBackward0", "(JJJJJJI)V", softmax_backward),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/ReduceNative", kMethods);

}  // namespace kiln::jni

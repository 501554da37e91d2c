// JNI glue for dev.kiln.internal.ElementwiseNative: binary ops, activations, scale, axpy, dropout and the fused bias +
// GELU (forward and backward). Glue only: unpack handles, call the C ABI, turn a failed status into a Java exception.
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

void binary(JNIEnv* env, jclass, jlong ctx, jint op, jlong a, jlong stride_a, jlong b, jlong stride_b, jlong y,
            jlong outer, jlong inner) {
    throw_if_failed(env, kiln_binary_f32(ctx_of(ctx), (kiln_binary_op)op, ptr_of<const float>(a), stride_a,
                                         ptr_of<const float>(b), stride_b, ptr_of<float>(y), outer, inner));
}

// da or db == 0 (NULL): that gradient is not wanted.
void binary_backward(JNIEnv* env, jclass, jlong ctx, jint op, jlong a, jlong stride_a, jlong b, jlong stride_b,
                     jlong dy, jlong da, jlong db, jlong outer, jlong inner) {
    throw_if_failed(env, kiln_binary_backward_f32(ctx_of(ctx), (kiln_binary_op)op, ptr_of<const float>(a), stride_a,
                                                  ptr_of<const float>(b), stride_b, ptr_of<const float>(dy),
                                                  ptr_of<float>(da), ptr_of<float>(db), outer, inner));
}

void activation(JNIEnv* env, jclass, jlong ctx, jint act, jlong x, jlong y, jlong n, jfloat alpha) {
    throw_if_failed(env, kiln_activation_f32(ctx_of(ctx), (kiln_activation)act, ptr_of<const float>(x),
                                             ptr_of<float>(y), n, alpha));
}

void activation_backward(JNIEnv* env, jclass, jlong ctx, jint act, jlong x, jlong y, jlong dy, jlong dx, jlong n,
                         jfloat alpha) {
    throw_if_failed(env, kiln_activation_backward_f32(ctx_of(ctx), (kiln_activation)act, ptr_of<const float>(x),
                                                      ptr_of<const float>(y), ptr_of<const float>(dy),
                                                      ptr_of<float>(dx), n, alpha));
}

void scale(JNIEnv* env, jclass, jlong ctx, jlong x, jlong y, jlong n, jfloat alpha) {
    throw_if_failed(env, kiln_scale_f32(ctx_of(ctx), ptr_of<const float>(x), ptr_of<float>(y), n, alpha));
}

void axpy(JNIEnv* env, jclass, jlong ctx, jlong n, jfloat alpha, jlong x, jlong y) {
    throw_if_failed(env, kiln_axpy_f32(ctx_of(ctx), n, alpha, ptr_of<const float>(x), ptr_of<float>(y)));
}

void dropout(JNIEnv* env, jclass, jlong ctx, jlong x, jlong y, jlong n, jfloat p, jlong seed, jlong offset) {
    throw_if_failed(env, kiln_dropout_f32(ctx_of(ctx), ptr_of<const float>(x), ptr_of<float>(y), n, p, (uint64_t)seed,
                                          (uint64_t)offset));
}

void dropout_backward(JNIEnv* env, jclass, jlong ctx, jlong dy, jlong dx, jlong n, jfloat p, jlong seed,
                      jlong offset) {
    throw_if_failed(env, kiln_dropout_backward_f32(ctx_of(ctx), ptr_of<const float>(dy), ptr_of<float>(dx), n, p,
                                                   (uint64_t)seed, (uint64_t)offset));
}

void bias_gelu(JNIEnv* env, jclass, jlong ctx, jlong x, jlong bias, jlong y, jlong rows, jlong cols) {
    throw_if_failed(env, kiln_bias_gelu_f32(ctx_of(ctx), ptr_of<const float>(x), ptr_of<const float>(bias),
                                            ptr_of<float>(y), rows, cols));
}

// dx or dbias == 0 (NULL): that gradient is not wanted.
void bias_gelu_backward(JNIEnv* env, jclass, jlong ctx, jlong x, jlong bias, jlong dy, jlong dx, jlong dbias,
                        jlong rows, jlong cols) {
    throw_if_failed(env, kiln_bias_gelu_backward_f32(ctx_of(ctx), ptr_of<const float>(x), ptr_of<const float>(bias),
                                                     ptr_of<const float>(dy), ptr_of<float>(dx), ptr_of<float>(dbias),
                                                     rows, cols));
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("binary0", "(JIJJJJJJJ)V", binary),
    KILN_NATIVE("binaryBackward0", "(JIJJJJJJJJJ)V", binary_backward),
    KILN_NATIVE("activation0", "(JIJJJF)V", activation),
    KILN_NATIVE("activationBackward0", "(JIJJJJJF)V", activation_backward),
    KILN_NATIVE("scale0", "(JJJJF)V", scale),
    KILN_NATIVE("axpy0", "(JJFJJ)V", axpy),
    KILN_NATIVE("dropout0", "(JJJJFJJ)V", dropout),
    KILN_NATIVE("dropoutBackward0", "(JJJJFJJ)V", dropout_backward),
    KILN_NATIVE("biasGelu0", "(JJJJJJ)V", bias_gelu),
    KILN_NATIVE("biasGeluBackward0", "(JJJJJJJJ)V", bias_gelu_backward),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/ElementwiseNative", kMethods);

}  // namespace kiln::jni

// JNI glue for dev.kiln.internal.LayerNormNative: layer norm forward and backward. Glue only: handles in (a zero
// handle becomes NULL: gamma/beta, mean/rstd and dx/dgamma/dbeta are optional), the C ABI call, a failed status out
// as a Java exception.
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

void layer_norm(JNIEnv* env, jclass, jlong ctx, jlong x, jlong gamma, jlong beta, jlong y, jlong mean, jlong rstd,
                jlong rows, jlong cols, jfloat eps) {
    throw_if_failed(env, kiln_layer_norm_f32(ctx_of(ctx), ptr_of<const float>(x), ptr_of<const float>(gamma),
                                             ptr_of<const float>(beta), ptr_of<float>(y), ptr_of<float>(mean),
                                             ptr_of<float>(rstd), rows, cols, eps));
}

void layer_norm_backward(JNIEnv* env, jclass, jlong ctx, jlong x, jlong dy, jlong gamma, jlong mean, jlong rstd,
                         jlong dx, jlong dgamma, jlong dbeta, jlong rows, jlong cols) {
    throw_if_failed(env, kiln_layer_norm_backward_f32(ctx_of(ctx), ptr_of<const float>(x), ptr_of<const float>(dy),
                                                      ptr_of<const float>(gamma), ptr_of<const float>(mean),
                                                      ptr_of<const float>(rstd), ptr_of<float>(dx),
                                                      ptr_of<float>(dgamma), ptr_of<float>(dbeta), rows, cols));
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("forward0", "(JJJJJJJJJF)V", layer_norm),
    KILN_NATIVE("backward0", "(JJJJJJJJJJJ)V", layer_norm_backward),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/LayerNormNative", kMethods);

}  // namespace kiln::jni

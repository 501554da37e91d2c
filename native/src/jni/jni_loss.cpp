// JNI glue for dev.kiln.internal.LossNative: cross entropy, BCE with logits, MSE, forward and backward. loss and dloss
// are addresses of 1-element device buffers, passed through like any other tensor. Glue only: no math here.
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

void cross_entropy(JNIEnv* env, jclass, jlong ctx, jlong logits, jlong labels, jlong loss, jlong lse, jlong rows,
                   jlong cols) {
    throw_if_failed(env, kiln_cross_entropy_f32(ctx_of(ctx), ptr_of<const float>(logits), ptr_of<const int32_t>(labels),
                                                ptr_of<float>(loss), ptr_of<float>(lse), rows, cols));
}

void cross_entropy_backward(JNIEnv* env, jclass, jlong ctx, jlong logits, jlong labels, jlong lse, jlong dloss,
                            jlong dlogits, jlong rows, jlong cols) {
    throw_if_failed(env, kiln_cross_entropy_backward_f32(ctx_of(ctx), ptr_of<const float>(logits),
                                                         ptr_of<const int32_t>(labels), ptr_of<const float>(lse),
                                                         ptr_of<const float>(dloss), ptr_of<float>(dlogits), rows,
                                                         cols));
}

void bce_with_logits(JNIEnv* env, jclass, jlong ctx, jlong x, jlong t, jlong loss, jlong n) {
    throw_if_failed(env, kiln_bce_with_logits_f32(ctx_of(ctx), ptr_of<const float>(x), ptr_of<const float>(t),
                                                  ptr_of<float>(loss), n));
}

void bce_with_logits_backward(JNIEnv* env, jclass, jlong ctx, jlong x, jlong t, jlong dloss, jlong dx, jlong n) {
    throw_if_failed(env, kiln_bce_with_logits_backward_f32(ctx_of(ctx), ptr_of<const float>(x), ptr_of<const float>(t),
                                                           ptr_of<const float>(dloss), ptr_of<float>(dx), n));
}

void mse(JNIEnv* env, jclass, jlong ctx, jlong x, jlong t, jlong loss, jlong n) {
    throw_if_failed(env, kiln_mse_f32(ctx_of(ctx), ptr_of<const float>(x), ptr_of<const float>(t), ptr_of<float>(loss),
                                      n));
}

void mse_backward(JNIEnv* env, jclass, jlong ctx, jlong x, jlong t, jlong dloss, jlong dx, jlong n) {
    throw_if_failed(env, kiln_mse_backward_f32(ctx_of(ctx), ptr_of<const float>(x), ptr_of<const float>(t),
                                               ptr_of<const float>(dloss), ptr_of<float>(dx), n));
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("crossEntropy0", "(JJJJJJJ)V", cross_entropy),
    KILN_NATIVE("crossEntropyBackward0", "(JJJJJJJJ)V", cross_entropy_backward),
    KILN_NATIVE("bceWithLogits0", "(JJJJJ)V", bce_with_logits),
    KILN_NATIVE("bceWithLogitsBackward0", "(JJJJJJ)V", bce_with_logits_backward),
    KILN_NATIVE("mse0", "(JJJJJ)V", mse),
    KILN_NATIVE("mseBackward0", "(JJJJJJ)V", mse_backward),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/LossNative", kMethods);

}  // namespace kiln::jni

// JNI glue for dev.kiln.internal.BatchNormNative: training and evaluation forward and backward. Glue only: handles in
// (a zero handle becomes NULL: gamma/beta, running stats and dx/dgamma/dbeta are optional), the C ABI call, a failed
// status out as a Java exception.
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

void batch_norm_train(JNIEnv* env, jclass, jlong ctx, jlong n, jlong c, jlong hw, jlong x, jlong gamma, jlong beta,
                      jlong y, jlong save_mean, jlong save_invstd, jlong running_mean, jlong running_var,
                      jfloat momentum, jfloat eps) {
    throw_if_failed(env, kiln_batch_norm_train_f32(ctx_of(ctx), n, c, hw, ptr_of<const float>(x),
                                                   ptr_of<const float>(gamma), ptr_of<const float>(beta),
                                                   ptr_of<float>(y), ptr_of<float>(save_mean),
                                                   ptr_of<float>(save_invstd), ptr_of<float>(running_mean),
                                                   ptr_of<float>(running_var), momentum, eps));
}

void batch_norm_eval(JNIEnv* env, jclass, jlong ctx, jlong n, jlong c, jlong hw, jlong x, jlong gamma, jlong beta,
                     jlong running_mean, jlong running_var, jfloat eps, jlong y) {
    throw_if_failed(env, kiln_batch_norm_eval_f32(ctx_of(ctx), n, c, hw, ptr_of<const float>(x),
                                                  ptr_of<const float>(gamma), ptr_of<const float>(beta),
                                                  ptr_of<const float>(running_mean), ptr_of<const float>(running_var),
                                                  eps, ptr_of<float>(y)));
}

void batch_norm_backward(JNIEnv* env, jclass, jlong ctx, jlong n, jlong c, jlong hw, jlong x, jlong dy, jlong gamma,
                         jlong save_mean, jlong save_invstd, jlong dx, jlong dgamma, jlong dbeta) {
    throw_if_failed(env, kiln_batch_norm_backward_f32(ctx_of(ctx), n, c, hw, ptr_of<const float>(x),
                                                      ptr_of<const float>(dy), ptr_of<const float>(gamma),
                                                      ptr_of<const float>(save_mean), ptr_of<const float>(save_invstd),
                                                      ptr_of<float>(dx), ptr_of<float>(dgamma), ptr_of<float>(dbeta)));
}

void batch_norm_backward_eval(JNIEnv* env, jclass, jlong ctx, jlong n, jlong c, jlong hw, jlong x, jlong dy,
                              jlong gamma, jlong running_mean, jlong running_var, jfloat eps, jlong dx, jlong dgamma,
                              jlong dbeta) {
    throw_if_failed(env, kiln_batch_norm_backward_eval_f32(ctx_of(ctx), n, c, hw, ptr_of<const float>(x),
                                                           ptr_of<const float>(dy), ptr_of<const float>(gamma),
                                                           ptr_of<const float>(running_mean),
                                                           ptr_of<const float>(running_var), eps, ptr_of<float>(dx),
                                                           ptr_of<float>(dgamma), ptr_of<float>(dbeta)));
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("train0", "(JJJJJJJJJJJJFF)V", batch_norm_train),
    KILN_NATIVE("eval0", "(JJJJJJJJJFJ)V", batch_norm_eval),
    KILN_NATIVE("backward0", "(JJJJJJJJJJJJ)V", batch_norm_backward),
    KILN_NATIVE("backwardEval0", "(JJJJJJJJJFJJJ)V", batch_norm_backward_eval),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/BatchNormNative", kMethods);

}  // namespace kiln::jni

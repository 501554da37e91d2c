// JNI glue for dev.kiln.internal.OptimNative: the fused optimizer steps (SGD with momentum, Adam/AdamW, capturable Adam). Glue only:
// unpack handles, call the C ABI, turn a failed status into a Java exception.
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

// velocity == 0 (NULL) is allowed when momentum == 0.
void sgd_step(JNIEnv* env, jclass, jlong ctx, jlong param, jlong grad, jlong velocity, jlong n, jfloat lr,
              jfloat momentum, jfloat weight_decay, jint nesterov) {
    throw_if_failed(env, kiln_sgd_step_f32(ctx_of(ctx), ptr_of<float>(param), ptr_of<const float>(grad),
                                           ptr_of<float>(velocity), n, lr, momentum, weight_decay, nesterov));
}

void adam_step(JNIEnv* env, jclass, jlong ctx, jlong param, jlong grad, jlong m, jlong v, jlong n, jfloat lr,
               jfloat beta1, jfloat beta2, jfloat eps, jfloat weight_decay, jint decoupled, jfloat bias_correction1,
               jfloat bias_correction2) {
    throw_if_failed(env, kiln_adam_step_f32(ctx_of(ctx), ptr_of<float>(param), ptr_of<const float>(grad),
                                            ptr_of<float>(m), ptr_of<float>(v), n, lr, beta1, beta2, eps, weight_decay,
                                            decoupled, bias_correction1, bias_correction2));
}

void adam_advance_step(JNIEnv* env, jclass, jlong ctx, jlong step, jlong bias_corrections, jfloat beta1,
                       jfloat beta2) {
    throw_if_failed(env, kiln_adam_advance_step(ctx_of(ctx), ptr_of<int32_t>(step), ptr_of<float>(bias_corrections),
                                                beta1, beta2));
}

void adam_step_capturable(JNIEnv* env, jclass, jlong ctx, jlong param, jlong grad, jlong m, jlong v, jlong n,
                          jfloat lr, jfloat beta1, jfloat beta2, jfloat eps, jfloat weight_decay, jint decoupled,
                          jlong bias_corrections) {
    throw_if_failed(env, kiln_adam_step_capturable_f32(ctx_of(ctx), ptr_of<float>(param), ptr_of<const float>(grad),
                                                       ptr_of<float>(m), ptr_of<float>(v), n, lr, beta1, beta2, eps,
                                                       weight_decay, decoupled,
                                                       ptr_of<const float>(bias_corrections)));
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("sgdStep0", "(JJJJJFFFI)V", sgd_step),
    KILN_NATIVE("adamStep0", "(JJJJJJFFFFFIFF)V", adam_step),
    KILN_NATIVE("adamAdvanceStep0", "(JJJFF)V", adam_advance_step),
    KILN_NATIVE("adamStepCapturable0", "(JJJJJJFFFFFIJ)V", adam_step_capturable),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/OptimNative", kMethods);

}  // namespace kiln::jni

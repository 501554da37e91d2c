// JNI glue for dev.kiln.internal.SamplingNative: reparameterization and the Gaussian KL term, forward and backward.
// Glue only: a zero handle becomes NULL (dmu/dlogvar are optional), the C ABI call, a failed status out as a Java
// exception.
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

void reparameterize(JNIEnv* env, jclass, jlong ctx, jlong mu, jlong logvar, jlong z, jlong n, jlong seed,
                    jlong offset) {
    throw_if_failed(env, kiln_reparameterize_f32(ctx_of(ctx), ptr_of<const float>(mu), ptr_of<const float>(logvar),
                                                 ptr_of<float>(z), n, (uint64_t)seed, (uint64_t)offset));
}

void reparameterize_backward(JNIEnv* env, jclass, jlong ctx, jlong logvar, jlong dz, jlong dmu, jlong dlogvar, jlong n,
                             jlong seed, jlong offset) {
    throw_if_failed(env, kiln_reparameterize_backward_f32(ctx_of(ctx), ptr_of<const float>(logvar),
                                                          ptr_of<const float>(dz), ptr_of<float>(dmu),
                                                          ptr_of<float>(dlogvar), n, (uint64_t)seed, (uint64_t)offset));
}

void gaussian_kl(JNIEnv* env, jclass, jlong ctx, jlong mu, jlong logvar, jlong loss, jlong batch, jlong dim) {
    throw_if_failed(env, kiln_gaussian_kl_f32(ctx_of(ctx), ptr_of<const float>(mu), ptr_of<const float>(logvar),
                                              ptr_of<float>(loss), batch, dim));
}

void gaussian_kl_backward(JNIEnv* env, jclass, jlong ctx, jlong mu, jlong logvar, jlong dloss, jlong dmu, jlong dlogvar,
                          jlong batch, jlong dim) {
    throw_if_failed(env, kiln_gaussian_kl_backward_f32(ctx_of(ctx), ptr_of<const float>(mu), ptr_of<const float>(logvar),
                                                       ptr_of<const float>(dloss), ptr_of<float>(dmu),
                                                       ptr_of<float>(dlogvar), batch, dim));
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("reparameterize0", "(JJJJJJJ)V", reparameterize),
    KILN_NATIVE("reparameterizeBackward0", "(JJJJJJJJ)V", reparameterize_backward),
    KILN_NATIVE("gaussianKl0", "(JJJJJJ)V", gaussian_kl),
    KILN_NATIVE("gaussianKlBackward0", "(JJJJJJJJ)V", gaussian_kl_backward),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/SamplingNative", kMethods);

}  // namespace kiln::jni

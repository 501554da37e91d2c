// JNI glue for dev.kiln.internal.EmbeddingNative: embedding lookup forward and backward, sinusoidal positions. Glue
// only: handles in, the C ABI call, a failed status out as a Java exception.
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

void embedding(JNIEnv* env, jclass, jlong ctx, jlong indices, jlong weight, jlong y, jlong n, jlong vocab, jlong dim) {
    throw_if_failed(env, kiln_embedding_f32(ctx_of(ctx), ptr_of<const int32_t>(indices), ptr_of<const float>(weight),
                                            ptr_of<float>(y), n, vocab, dim));
}

void embedding_backward(JNIEnv* env, jclass, jlong ctx, jlong indices, jlong dy, jlong dweight, jlong n, jlong vocab,
                        jlong dim) {
    throw_if_failed(env, kiln_embedding_backward_f32(ctx_of(ctx), ptr_of<const int32_t>(indices),
                                                     ptr_of<const float>(dy), ptr_of<float>(dweight), n, vocab, dim));
}

void sinusoidal_positions(JNIEnv* env, jclass, jlong ctx, jlong y, jlong len, jlong dim, jlong start) {
    throw_if_failed(env, kiln_sinusoidal_positions_f32(ctx_of(ctx), ptr_of<float>(y), len, dim, start));
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("forward0", "(JJJJJJJ)V", embedding),
    KILN_NATIVE("backward0", "(JJJJJJJ)V", embedding_backward),
    KILN_NATIVE("sinusoidalPositions0", "(JJJJJ)V", sinusoidal_positions),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/EmbeddingNative", kMethods);

}  // namespace kiln::jni

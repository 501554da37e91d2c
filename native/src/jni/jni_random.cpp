// JNI glue for dev.kiln.internal.RandomNative: fill and the Philox uniform and normal draws.
#include <cstdint>

#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

// y (n)
void fill(JNIEnv* env, jclass, jlong ctx, jlong y, jlong n, jfloat value) {
    throw_if_failed(env, kiln_fill_f32(ctx_of(ctx), ptr_of<float>(y), (size_t)n, value));
}

// y (n) from counters [offset, offset + ceil(n/4)) of stream `seed`.
void uniform(JNIEnv* env, jclass, jlong ctx, jlong y, jlong n, jlong seed, jlong offset, jfloat lo, jfloat hi) {
    throw_if_failed(env, kiln_rand_uniform_f32(ctx_of(ctx), ptr_of<float>(y), (size_t)n, (uint64_t)seed,
                                               (uint64_t)offset, lo, hi));
}

void normal(JNIEnv* env, jclass, jlong ctx, jlong y, jlong n, jlong seed, jlong offset, jfloat mean, jfloat std) {
    throw_if_failed(env, kiln_rand_normal_f32(ctx_of(ctx), ptr_of<float>(y), (size_t)n, (uint64_t)seed,
                                              (uint64_t)offset, mean, std));
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("fill0", "(JJJF)V", fill),
    KILN_NATIVE("uniform0", "(JJJJJFF)V", uniform),
    KILN_NATIVE("normal0", "(JJJJJFF)V", normal),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/RandomNative", kMethods);

}  // namespace kiln::jni

// JNI glue for dev.kiln.internal.ConvertNative's Java-array copies: the raw bf16 bits of a tensor slice to and from a
// Java short[] (checkpoints move bf16 data as it is stored, never through a rounding). The conversions themselves are
// bound from kiln.h (jni_abi.cpp). Glue only.
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

// The array is pinned (critical) only for the copy itself, after the stream is drained; the ABI's host copies
// complete before returning.
void copy_from_short_array(JNIEnv* env, jclass, jlong ctx, jlong dst, jshortArray src, jint offset, jint count) {
    if (!array_range_ok(env, src, offset, count)) return;
    drain_before_pinning(ctx);
    void* host = env->GetPrimitiveArrayCritical(src, nullptr);
    if (!host) return;  // OutOfMemoryError pending
    const kiln_status s = kiln_copy_to_device(ctx_of(ctx), ptr_of<void>(dst), static_cast<jshort*>(host) + offset,
                                              (size_t)count * sizeof(jshort));
    env->ReleasePrimitiveArrayCritical(src, host, JNI_ABORT);
    throw_if_failed(env, s);
}

void copy_to_short_array(JNIEnv* env, jclass, jlong ctx, jlong src, jshortArray dst, jint offset, jint count) {
    if (!array_range_ok(env, dst, offset, count)) return;
    drain_before_pinning(ctx);
    void* host = env->GetPrimitiveArrayCritical(dst, nullptr);
    if (!host) return;
    const kiln_status s = kiln_copy_to_host(ctx_of(ctx), static_cast<jshort*>(host) + offset, ptr_of<void>(src),
                                            (size_t)count * sizeof(jshort));
    env->ReleasePrimitiveArrayCritical(dst, host, 0);
    throw_if_failed(env, s);
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("copyFromShortArray0", "(JJ[SII)V", copy_from_short_array),
    KILN_NATIVE("copyToShortArray0", "(JJ[SII)V", copy_to_short_array),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/ConvertNative", kMethods);

}  // namespace kiln::jni

// JNI glue for dev.kiln.internal.RuntimeNative: library info, devices, contexts, memory and copies.
#include <cstdint>

#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

jstring build_info(JNIEnv* env, jclass) { return env->NewStringUTF(kiln_build_info()); }
jint abi_version(JNIEnv*, jclass) { return kiln_abi_version(); }
void noop(JNIEnv* env, jclass) { throw_if_failed(env, kiln_noop()); }

jint cuda_device_count(JNIEnv* env, jclass, jobjectArray reason_out) {
    int32_t count = 0;
    const char* reason = "";
    if (throw_if_failed(env, kiln_cuda_device_count(&count, &reason))) return 0;
    if (reason_out && env->GetArrayLength(reason_out) > 0) {
        jstring r = env->NewStringUTF(reason ? reason : "");
        if (!r) return 0;
        env->SetObjectArrayElement(reason_out, 0, r);
    }
    return count;
}

jobject device_properties(JNIEnv* env, jclass, jint kind, jint index) {
    kiln_device_props p;
    if (throw_if_failed(env, kiln_device_properties((kiln_device_kind)kind, index, &p))) return nullptr;
    jstring name = env->NewStringUTF(p.name);
    if (!name) return nullptr;
    return env->NewObject(cache().device_info, cache().device_info_ctor, name, (jlong)p.total_memory,
                          (jlong)p.free_memory, (jint)p.cc_major, (jint)p.cc_minor, (jint)p.multiprocessors);
}

jlong context_create(JNIEnv* env, jclass, jint kind, jint index) {
    kiln_context* ctx = nullptr;
    if (throw_if_failed(env, kiln_context_create((kiln_device_kind)kind, index, &ctx))) return 0;
    return reinterpret_cast<jlong>(ctx);
}

void synchronize(JNIEnv* env, jclass, jlong ctx) { throw_if_failed(env, kiln_synchronize(ctx_of(ctx))); }

jlong alloc(JNIEnv* env, jclass, jlong ctx, jlong bytes) {
    void* p = nullptr;
    if (throw_if_failed(env, kiln_alloc(ctx_of(ctx), (size_t)bytes, &p))) return 0;
    return reinterpret_cast<jlong>(p);
}

void release(JNIEnv* env, jclass, jlong ctx, jlong ptr) { throw_if_failed(env, kiln_free(ctx_of(ctx), ptr_of<void>(ptr))); }

void memory_stats(JNIEnv* env, jclass, jlong ctx, jlongArray out) {
    kiln_memory_stats s;
    if (throw_if_failed(env, kiln_memory_stats_get(ctx_of(ctx), &s))) return;
    const jlong values[7] = {(jlong)s.bytes_in_use,      (jlong)s.peak_bytes_in_use, (jlong)s.bytes_reserved,
                             (jlong)s.live_allocations,  (jlong)s.total_allocations, (jlong)s.system_allocations,
                             (jlong)s.cache_hits};
    env->SetLongArrayRegion(out, 0, 7, values);
}

void empty_cache(JNIEnv* env, jclass, jlong ctx) { throw_if_failed(env, kiln_empty_cache(ctx_of(ctx))); }

// Reliability: the allocation cap behind Device.setMemoryLimit (kiln_set_memory_limit; Java checked bytes >= 0).
void set_memory_limit(JNIEnv* env, jclass, jlong ctx, jlong bytes) {
    throw_if_failed(env, kiln_set_memory_limit(ctx_of(ctx), (uint64_t)bytes));
}

void copy_to_device(JNIEnv* env, jclass, jlong ctx, jlong dst, jlong host_src, jlong bytes) {
    throw_if_failed(env, kiln_copy_to_device(ctx_of(ctx), ptr_of<void>(dst), ptr_of<void>(host_src), (size_t)bytes));
}

void copy_to_host(JNIEnv* env, jclass, jlong ctx, jlong host_dst, jlong src, jlong bytes) {
    throw_if_failed(env, kiln_copy_to_host(ctx_of(ctx), ptr_of<void>(host_dst), ptr_of<void>(src), (size_t)bytes));
}

void copy_device(JNIEnv* env, jclass, jlong ctx, jlong dst, jlong src, jlong bytes) {
    throw_if_failed(env, kiln_copy_device(ctx_of(ctx), ptr_of<void>(dst), ptr_of<void>(src), (size_t)bytes));
}

void copy_device_2d(JNIEnv* env, jclass, jlong ctx, jlong dst, jlong dst_pitch, jlong src, jlong src_pitch,
                    jlong width, jlong rows) {
    throw_if_failed(env, kiln_copy_device_2d(ctx_of(ctx), ptr_of<void>(dst), (size_t)dst_pitch, ptr_of<void>(src),
                                             (size_t)src_pitch, (size_t)width, (size_t)rows));
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("buildInfo0", "()Ljava/lang/String;", build_info),
    KILN_NATIVE("abiVersion0", "()I", abi_version),
    KILN_NATIVE("noop0", "()V", noop),
    KILN_NATIVE("cudaDeviceCount0", "([Ljava/lang/String;)I", cuda_device_count),
    KILN_NATIVE("deviceProperties0", "(II)Ldev/kiln/DeviceInfo;", device_properties),
    KILN_NATIVE("contextCreate0", "(II)J", context_create),
    KILN_NATIVE("synchronize0", "(J)V", synchronize),
    KILN_NATIVE("alloc0", "(JJ)J", alloc),
    KILN_NATIVE("free0", "(JJ)V", release),
    KILN_NATIVE("memoryStats0", "(J[J)V", memory_stats),
    KILN_NATIVE("emptyCache0", "(J)V", empty_cache),
    KILN_NATIVE("setMemoryLimit0", "(JJ)V", set_memory_limit),
    KILN_NATIVE("copyFromArray0", "(JJ[FII)V", (copy_from_array<float, jfloatArray>)),
    KILN_NATIVE("copyToArray0", "(JJ[FII)V", (copy_to_array<float, jfloatArray>)),
    KILN_NATIVE("copyFromIntArray0", "(JJ[III)V", (copy_from_array<int32_t, jintArray>)),
    KILN_NATIVE("copyToIntArray0", "(JJ[III)V", (copy_to_array<int32_t, jintArray>)),
    KILN_NATIVE("copyToDevice0", "(JJJJ)V", copy_to_device),
    KILN_NATIVE("copyToHost0", "(JJJJ)V", copy_to_host),
    KILN_NATIVE("copyDevice0", "(JJJJ)V", copy_device),
    KILN_NATIVE("copyDevice2d0", "(JJJJJJJ)V", copy_device_2d),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/RuntimeNative", kMethods);

}  // namespace kiln::jni

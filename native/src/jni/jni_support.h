// JNI plumbing shared by the glue files: status -> Java exception, handle unpacking, and the self-registration of
// the hand-written natives tables (KILN_JNI_REGISTER: runtime, interop, graphs, profiling, size queries), whose rows
// are checked against their glue functions at compile time (KILN_NATIVE). The op entries' glue is generated from
// kiln.h instead (jni_abi.cpp). Glue only: no math here, every call goes through the C ABI in kiln/kiln.h.
#pragma once

#include <jni.h>

#include <cstddef>

#include "jni/jni_signature.h"
#include "kiln/kiln.h"

namespace kiln::jni {

// Throws the Java exception for `status` with kiln_last_error() as its message. Returns true if it threw.
bool throw_if_failed(JNIEnv* env, kiln_status status);
void throw_illegal_argument(JNIEnv* env, const char* message);
// "dev/kiln/internal/Conv2dNative" -> "dev.kiln.internal.Conv2dNative", for messages.
void dotted_name(const char* java_class, char* out, size_t size);
// For JNI_OnLoad: clears any pending exception and throws UnsatisfiedLinkError with the formatted message, which
// System.load passes on to the Java loader. Returns false.
bool fail_load(JNIEnv* env, const char* format, ...) __attribute__((format(printf, 2, 3)));

// Cached in JNI_OnLoad: the classes the glue instantiates.
struct Cache {
    jclass device_info;              // dev.kiln.DeviceInfo
    jmethodID device_info_ctor;      // (String name, long totalMemory, long freeMemory, int ccMajor, int ccMinor, int units)
    jclass illegal_argument;         // java.lang.IllegalArgumentException
    jclass kiln_exception;           // dev.kiln.KilnException
    jclass out_of_memory;            // dev.kiln.KilnOutOfMemoryException
    jclass cuda_exception;           // dev.kiln.KilnCudaException
    jclass device_unavailable;       // dev.kiln.DeviceUnavailableException
};
const Cache& cache();

// The Java binding checks every address before the call (open tensor, enough elements); 0 stands for an optional
// argument left out and becomes NULL.
inline kiln_context* ctx_of(jlong handle) { return reinterpret_cast<kiln_context*>(handle); }
template <typename T>
inline T* ptr_of(jlong address) { return reinterpret_cast<T*>(address); }

// Waits for the context's queued work before a Java array is pinned (GetPrimitiveArrayCritical): the host copies
// wait for the whole stream anyway, and a thread holding a critical array stalls every other thread's garbage
// collection for as long as it waits (on a GPU, a training step's backlog). Best effort: a failure here (a capture,
// an asynchronous CUDA error) is left for the copy itself to report.
// Not while the calling thread captures a CUDA graph: kiln_synchronize would be refused there and recorded as the
// capture's failure, naming an op the user never called; the copy itself then reports why it cannot be captured.
inline void drain_before_pinning(jlong ctx) {
    int32_t capturing = 0;
    if (kiln_graph_is_capturing(ctx_of(ctx), &capturing) == KILN_OK && capturing) return;
    (void)kiln_synchronize(ctx_of(ctx));
}

// Whether elements [offset, offset + count) lie in `array`; throws IllegalArgumentException and returns false where
// they do not (or the array is null). The binding checks this before the call; the glue checks it again because a
// pinned array is read and written through a raw pointer, where a wrong range is memory corruption, not an exception.
bool array_range_ok(JNIEnv* env, jarray array, jint offset, jint count);

// Java arrays are pinned (critical) only for the copy itself, after the stream is drained; the ABI's host copies
// complete before returning.
// Element is the array's C element type (float, int32_t, jshort); Array the matching jfloatArray / jintArray /
// jshortArray. The runtime's float and int copies and the bf16 bits of ConvertNative are all these two.
template <typename Element, typename Array>
inline void copy_from_array(JNIEnv* env, jclass, jlong ctx, jlong dst, Array src, jint offset, jint count) {
    if (!array_range_ok(env, src, offset, count)) return;
    drain_before_pinning(ctx);
    void* host = env->GetPrimitiveArrayCritical(src, nullptr);
    if (!host) return;  // OutOfMemoryError pending
    const kiln_status s = kiln_copy_to_device(ctx_of(ctx), ptr_of<void>(dst), static_cast<Element*>(host) + offset,
                                              (size_t)count * sizeof(Element));
    env->ReleasePrimitiveArrayCritical(src, host, JNI_ABORT);
    throw_if_failed(env, s);
}

template <typename Element, typename Array>
inline void copy_to_array(JNIEnv* env, jclass, jlong ctx, jlong src, Array dst, jint offset, jint count) {
    if (!array_range_ok(env, dst, offset, count)) return;
    drain_before_pinning(ctx);
    void* host = env->GetPrimitiveArrayCritical(dst, nullptr);
    if (!host) return;
    const kiln_status s = kiln_copy_to_host(ctx_of(ctx), static_cast<Element*>(host) + offset, ptr_of<void>(src),
                                            (size_t)count * sizeof(Element));
    env->ReleasePrimitiveArrayCritical(dst, host, 0);
    throw_if_failed(env, s);
}

// The path of a glue file from native/src/jni/ on, for messages (`path` is __FILE__).
inline const char* glue_file(const char* path) {
    for (const char* p = path; *p; ++p) {
        if (__builtin_strncmp(p, "native/src/jni/", 15) == 0) return p;
    }
    return path;
}

// Adds one natives table for `java_class` ("dev/kiln/internal/Conv2dNative") to the registry. JNI_OnLoad registers
// each table one method at a time and fails the load, naming the class, the method and the glue file, when Java lacks a
// method of the table or declares a native the table lacks. Call it through KILN_JNI_REGISTER, at namespace scope, once
// per binding class.
bool add_natives(const char* java_class, const char* source_file, const JNINativeMethod* methods, size_t count);

// One row of a natives table: the Java name, the JNI signature and the glue function, whose parameter types must
// match the signature (checked when the row compiles).
template <bool SignatureMatches, typename Fn>
JNINativeMethod native_method(const char* name, const char* signature, Fn fn) {
    static_assert(SignatureMatches, "KILN_NATIVE: the glue function's parameter types do not match the JNI signature");
    return {const_cast<char*>(name), const_cast<char*>(signature), reinterpret_cast<void*>(fn)};
}

}  // namespace kiln::jni

#define KILN_NATIVE(name, signature, fn) \
    ::kiln::jni::native_method<::kiln::jni::signature_matches(fn, signature)>(name, signature, fn)

#define KILN_JNI_CONCAT_(a, b) a##b
#define KILN_JNI_CONCAT(a, b) KILN_JNI_CONCAT_(a, b)
#define KILN_JNI_REGISTER(java_class, methods)                                                        \
    static const bool KILN_JNI_CONCAT(kiln_jni_natives_, __LINE__) = ::kiln::jni::add_natives(        \
        java_class, __FILE__, methods, sizeof(methods) / sizeof((methods)[0]))

// JNI plumbing shared by the glue files: cached classes, status -> Java exception, native registration.
// Glue only: no math here, every call goes through the C ABI in kiln/kiln.h.
#pragma once

#include <jni.h>

#include "kiln/kiln.h"

namespace kiln::jni {

// Throws the Java exception for `status` with kiln_last_error() as its message. Returns true if it threw.
bool throw_if_failed(JNIEnv* env, kiln_status status);
void throw_illegal_argument(JNIEnv* env, const char* message);

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

inline kiln_context* ctx_of(jlong handle) { return reinterpret_cast<kiln_context*>(handle); }
template <typename T>
inline T* ptr_of(jlong address) { return reinterpret_cast<T*>(address); }

// Each glue file registers its own natives on dev.kiln.internal.Native; returns false (with a pending
// exception) if a method is missing, so a Java/native mismatch fails at load time, not at first call.
bool register_runtime_natives(JNIEnv* env, jclass native_class);      // jni_runtime.cpp
bool register_gemm_natives(JNIEnv* env, jclass native_class);         // jni_gemm.cpp
bool register_elementwise_natives(JNIEnv* env, jclass native_class);  // jni_elementwise.cpp (incl. dropout)
bool register_reduce_natives(JNIEnv* env, jclass native_class);       // jni_reduce.cpp (incl. softmax)
bool register_loss_natives(JNIEnv* env, jclass native_class);         // jni_loss.cpp
bool register_optim_natives(JNIEnv* env, jclass native_class);        // jni_optim.cpp
bool register_conv2d_natives(JNIEnv* env, jclass native_class);       // jni_conv2d.cpp
bool register_pool_natives(JNIEnv* env, jclass native_class);         // jni_pool.cpp
bool register_batchnorm_natives(JNIEnv* env, jclass native_class);    // jni_batchnorm.cpp
bool register_lstm_natives(JNIEnv* env, jclass native_class);         // jni_lstm.cpp

// Reads a descriptor passed as a Java long[] of `length` entries; false (with a pending exception) if it is not.
bool read_desc(JNIEnv* env, jlongArray desc, int length, jlong* out);

}  // namespace kiln::jni

// One row of a RegisterNatives table.
#define KILN_NATIVE(name, sig, fn) {const_cast<char*>(name), const_cast<char*>(sig), reinterpret_cast<void*>(fn)}

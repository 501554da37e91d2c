// JNI glue for dev.kiln.internal.ProfilerNative: the last op's entry, kernel path and device-timing flag; device
// times from CUDA events; the stream timer and the L2 flush of benchmarks; NVTX ranges; the device's measured peak.
// Glue only.
#include <memory>
#include <new>

#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

// out[0] = entry, out[1] = path; returns whether the op's device time was recorded. The strings are static in the
// library; a profiler only asks for them while it records, so their allocation never costs an unprofiled op.
jboolean last_op(JNIEnv* env, jclass, jobjectArray out) {
    const char* entry = "";
    const char* path = "";
    int32_t timed = 0;
    if (throw_if_failed(env, kiln_last_op(&entry, &path, &timed))) return JNI_FALSE;
    jstring e = env->NewStringUTF(entry);
    if (!e) return JNI_FALSE;  // OutOfMemoryError pending
    env->SetObjectArrayElement(out, 0, e);
    jstring p = env->NewStringUTF(path);
    if (!p) return JNI_FALSE;
    env->SetObjectArrayElement(out, 1, p);
    return timed ? JNI_TRUE : JNI_FALSE;
}

void device_timing(JNIEnv* env, jclass, jlong ctx, jboolean on) {
    throw_if_failed(env, kiln_profile_device_timing(ctx_of(ctx), on ? 1 : 0));
}

// Fills ms and returns the count; the ABI refuses more ops than ms holds, forgetting none. Collected into a native
// buffer first: collecting waits for every timing event, and the Java array must not be pinned that long.
jint device_times(JNIEnv* env, jclass, jlong ctx, jfloatArray ms) {
    if (!array_range_ok(env, ms, 0, 0)) return 0;
    const jsize capacity = env->GetArrayLength(ms);
    // nothrow: a C++ exception must not unwind through the JNI frame (std::terminate would end the JVM).
    std::unique_ptr<float[]> times(new (std::nothrow) float[capacity > 0 ? capacity : 1]);
    if (!times) {
        env->ThrowNew(env->FindClass("java/lang/OutOfMemoryError"), "Kiln JNI: no native memory for the device times");
        return 0;
    }
    int64_t count = 0;
    const kiln_status s = kiln_profile_device_times(ctx_of(ctx), times.get(), capacity, &count);
    if (!throw_if_failed(env, s) && count > 0) env->SetFloatArrayRegion(ms, 0, (jsize)count, times.get());
    return (jint)count;
}

void stream_timer_start(JNIEnv* env, jclass, jlong ctx) { throw_if_failed(env, kiln_stream_timer_start(ctx_of(ctx))); }

// Waits for the stretch's closing event; returns its device time in ms.
jdouble stream_timer_stop(JNIEnv* env, jclass, jlong ctx) {
    double ms = 0.0;
    throw_if_failed(env, kiln_stream_timer_stop(ctx_of(ctx), &ms));
    return ms;
}

// Returns the bytes written (0 on the CPU, where the flush is a no-op).
jlong flush_l2(JNIEnv* env, jclass, jlong ctx) {
    uint64_t bytes = 0;
    throw_if_failed(env, kiln_flush_l2(ctx_of(ctx), &bytes));
    return (jlong)bytes;
}

void range_push(JNIEnv* env, jclass, jstring name) {
    if (!name) return throw_illegal_argument(env, "rangePush: name is null");
    const char* utf = env->GetStringUTFChars(name, nullptr);
    if (!utf) return;
    const kiln_status s = kiln_range_push(utf);
    env->ReleaseStringUTFChars(name, utf);
    throw_if_failed(env, s);
}

void range_pop(JNIEnv* env, jclass) { throw_if_failed(env, kiln_range_pop()); }

// out[0] = fp32 FMA GFLOP/s, out[1] = copy GB/s.
void measure_peak(JNIEnv* env, jclass, jlong ctx, jdoubleArray out) {
    kiln_device_peak peak{};
    if (throw_if_failed(env, kiln_measure_peak(ctx_of(ctx), &peak))) return;
    const jdouble values[2] = {peak.fma_gflops, peak.copy_gbps};
    env->SetDoubleArrayRegion(out, 0, 2, values);
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("lastOp0", "([Ljava/lang/String;)Z", last_op),
    KILN_NATIVE("deviceTiming0", "(JZ)V", device_timing),
    KILN_NATIVE("deviceTimes0", "(J[F)I", device_times),
    KILN_NATIVE("streamTimerStart0", "(J)V", stream_timer_start),
    KILN_NATIVE("streamTimerStop0", "(J)D", stream_timer_stop),
    KILN_NATIVE("flushL20", "(J)J", flush_l2),
    KILN_NATIVE("rangePush0", "(Ljava/lang/String;)V", range_push),
    KILN_NATIVE("rangePop0", "()V", range_pop),
    KILN_NATIVE("measurePeak0", "(J[D)V", measure_peak),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/ProfilerNative", kMethods);

}  // namespace kiln::jni

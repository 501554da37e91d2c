// JNI glue for dev.kiln.internal.GraphNative: CUDA graph capture and replay. Glue only: unpack handles, call the C
// ABI, turn a failed status into a Java exception.
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

inline kiln_graph* graph_of(jlong handle) { return reinterpret_cast<kiln_graph*>(handle); }

void capture_begin(JNIEnv* env, jclass, jlong ctx) { throw_if_failed(env, kiln_graph_capture_begin(ctx_of(ctx))); }

jlong capture_end(JNIEnv* env, jclass, jlong ctx) {
    kiln_graph* graph = nullptr;
    if (throw_if_failed(env, kiln_graph_capture_end(ctx_of(ctx), &graph))) return 0;
    return reinterpret_cast<jlong>(graph);
}

void launch(JNIEnv* env, jclass, jlong graph) { throw_if_failed(env, kiln_graph_launch(graph_of(graph))); }

void destroy(JNIEnv* env, jclass, jlong graph) { throw_if_failed(env, kiln_graph_destroy(graph_of(graph))); }

jboolean is_capturing(JNIEnv* env, jclass, jlong ctx) {
    int32_t capturing = 0;
    if (throw_if_failed(env, kiln_graph_is_capturing(ctx_of(ctx), &capturing))) return JNI_FALSE;
    return capturing ? JNI_TRUE : JNI_FALSE;
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("captureBegin0", "(J)V", capture_begin),
    KILN_NATIVE("captureEnd0", "(J)J", capture_end),
    KILN_NATIVE("launch0", "(J)V", launch),
    KILN_NATIVE("destroy0", "(J)V", destroy),
    KILN_NATIVE("isCapturing0", "(J)Z", is_capturing),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/GraphNative", kMethods);

}  // namespace kiln::jni

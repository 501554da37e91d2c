// JNI glue for dev.kiln.internal.InteropNative: memory Kiln does not own. A context on a caller's CUDA stream, and
// java.nio direct buffers over host memory (JNI is the only Java 17 way to read a direct buffer's address or to make a
// buffer over an address).
#include <cstdint>

#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

jlong context_on_stream(JNIEnv* env, jclass, jint index, jlong stream) {
    kiln_context* ctx = nullptr;
    if (throw_if_failed(env, kiln_context_create_on_stream(index, ptr_of<void>(stream), &ctx))) return 0;
    return reinterpret_cast<jlong>(ctx);
}

// 0 for a buffer that is not direct (the Java side has checked it is one; JNI answers 0 rather than failing).
jlong direct_buffer_address(JNIEnv* env, jclass, jobject buffer) {
    if (!buffer) {
        throw_illegal_argument(env, "directBufferAddress: buffer is null");
        return 0;
    }
    return reinterpret_cast<jlong>(env->GetDirectBufferAddress(buffer));
}

// A ByteBuffer over [address, address + bytes) that owns nothing: the binding hands it out only while the tensor that
// owns the memory is open.
jobject new_direct_byte_buffer(JNIEnv* env, jclass, jlong address, jlong bytes) {
    if (bytes < 0) {
        throw_illegal_argument(env, "newDirectByteBuffer: bytes must be >= 0");
        return nullptr;
    }
    return env->NewDirectByteBuffer(ptr_of<void>(address), bytes);
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("contextOnStream0", "(IJ)J", context_on_stream),
    KILN_NATIVE("directBufferAddress0", "(Ljava/nio/Buffer;)J", direct_buffer_address),
    KILN_NATIVE("newDirectByteBuffer0", "(JJ)Ljava/nio/ByteBuffer;", new_direct_byte_buffer),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/InteropNative", kMethods);

}  // namespace kiln::jni

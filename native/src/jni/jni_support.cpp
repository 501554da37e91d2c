// JNI_OnLoad: caches classes and method ids, registers every native method; status -> exception mapping.
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

Cache g_cache;

jclass global_class(JNIEnv* env, const char* name) {
    jclass local = env->FindClass(name);
    if (!local) return nullptr;
    jclass global = static_cast<jclass>(env->NewGlobalRef(local));
    env->DeleteLocalRef(local);
    return global;
}

}  // namespace

const Cache& cache() { return g_cache; }

bool read_desc(JNIEnv* env, jlongArray desc, int length, jlong* out) {
    if (!desc || env->GetArrayLength(desc) != length) {
        throw_illegal_argument(env, "descriptor array has the wrong length");
        return false;
    }
    env->GetLongArrayRegion(desc, 0, length, out);
    return !env->ExceptionCheck();
}

void throw_illegal_argument(JNIEnv* env, const char* message) { env->ThrowNew(g_cache.illegal_argument, message); }

bool throw_if_failed(JNIEnv* env, kiln_status status) {
    if (status == KILN_OK) return false;
    jclass cls;
    switch (status) {
        case KILN_ERR_INVALID_ARGUMENT: cls = g_cache.illegal_argument; break;
        case KILN_ERR_OUT_OF_MEMORY: cls = g_cache.out_of_memory; break;
        case KILN_ERR_CUDA: cls = g_cache.cuda_exception; break;
        case KILN_ERR_NO_DEVICE: cls = g_cache.device_unavailable; break;
        default: cls = g_cache.kiln_exception; break;
    }
    const char* msg = kiln_last_error();
    env->ThrowNew(cls, (msg && *msg) ? msg : "Kiln native call failed without a message");
    return true;
}

}  // namespace kiln::jni

extern "C" JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM* vm, void*) {
    using namespace kiln::jni;
    JNIEnv* env = nullptr;
    if (vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8) != JNI_OK) return JNI_ERR;
    Cache& c = const_cast<Cache&>(cache());
    if (!(c.device_info = global_class(env, "dev/kiln/DeviceInfo"))) return JNI_ERR;
    if (!(c.device_info_ctor = env->GetMethodID(c.device_info, "<init>", "(Ljava/lang/String;JJIII)V"))) return JNI_ERR;
    if (!(c.illegal_argument = global_class(env, "java/lang/IllegalArgumentException"))) return JNI_ERR;
    if (!(c.kiln_exception = global_class(env, "dev/kiln/KilnException"))) return JNI_ERR;
    if (!(c.out_of_memory = global_class(env, "dev/kiln/KilnOutOfMemoryException"))) return JNI_ERR;
    if (!(c.cuda_exception = global_class(env, "dev/kiln/KilnCudaException"))) return JNI_ERR;
    if (!(c.device_unavailable = global_class(env, "dev/kiln/DeviceUnavailableException"))) return JNI_ERR;
    jclass native_class = env->FindClass("dev/kiln/internal/Native");
    if (!native_class) return JNI_ERR;
    const bool registered = register_runtime_natives(env, native_class) && register_gemm_natives(env, native_class) &&
                            register_elementwise_natives(env, native_class) && register_reduce_natives(env, native_class) &&
                            register_loss_natives(env, native_class) && register_optim_natives(env, native_class) &&
                            register_pool_natives(env, native_class) && register_batchnorm_natives(env, native_class) &&
                            register_lstm_natives(env, native_class) && register_conv2d_natives(env, native_class);
    if (!registered) return JNI_ERR;
    env->DeleteLocalRef(native_class);
    return JNI_VERSION_1_8;
}

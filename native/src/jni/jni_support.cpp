// JNI_OnLoad: caches classes and method ids, resolves the descriptor records, registers every natives table the glue
// files added (checking both directions: each row exists in Java, each Java native has a row); status -> exception.
#include "jni/jni_support.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <vector>

#include "jni/jni_record.h"

namespace kiln::jni {

namespace {

Cache g_cache;

struct NativesTable {
    const char* java_class;
    const char* source_file;
    const JNINativeMethod* methods;
    size_t count;
};

std::vector<NativesTable>& tables() {
    static std::vector<NativesTable> all;  // filled by static initializers, before JNI_OnLoad
    return all;
}

jclass global_class(JNIEnv* env, const char* name) {
    jclass local = env->FindClass(name);
    if (!local) return nullptr;
    jclass global = static_cast<jclass>(env->NewGlobalRef(local));
    env->DeleteLocalRef(local);
    return global;
}

constexpr jint kNativeModifier = 0x100;  // java.lang.reflect.Modifier.NATIVE

// Every method `cls` declares native must have a row in `table` (or be named like a C ABI entry, for bindAbi):
// otherwise its first call would fail far from here.
bool check_java_natives_registered(JNIEnv* env, jclass cls, const char* class_name, const NativesTable& table) {
    jclass class_class = env->FindClass("java/lang/Class");
    jclass method_class = class_class ? env->FindClass("java/lang/reflect/Method") : nullptr;
    jmethodID declared = class_class ? env->GetMethodID(class_class, "getDeclaredMethods",
                                                        "()[Ljava/lang/reflect/Method;") : nullptr;
    jmethodID modifiers = method_class ? env->GetMethodID(method_class, "getModifiers", "()I") : nullptr;
    jmethodID name_of = method_class ? env->GetMethodID(method_class, "getName", "()Ljava/lang/String;") : nullptr;
    if (!declared || !modifiers || !name_of) return fail_load(env, "Kiln JNI: java.lang.reflect.Method is unusable");
    auto methods = static_cast<jobjectArray>(env->CallObjectMethod(cls, declared));
    if (env->ExceptionCheck() || !methods) return fail_load(env, "Kiln JNI: cannot list the methods of %s", class_name);
    const jsize n = env->GetArrayLength(methods);
    for (jsize i = 0; i < n; ++i) {
        jobject method = env->GetObjectArrayElement(methods, i);
        const jint mods = env->CallIntMethod(method, modifiers);
        if (env->ExceptionCheck()) return fail_load(env, "Kiln JNI: cannot read the methods of %s", class_name);
        if (mods & kNativeModifier) {
            auto method_name = static_cast<jstring>(env->CallObjectMethod(method, name_of));
            const char* utf = !env->ExceptionCheck() && method_name ? env->GetStringUTFChars(method_name, nullptr) : nullptr;
            if (!utf) return fail_load(env, "Kiln JNI: cannot read a method name of %s", class_name);
            // Natives named like a C ABI entry are bound from Java by NativeLibrary.bindAbi (jni_abi.cpp), not here.
            bool found = std::strncmp(utf, "kiln_", 5) == 0;
            for (size_t m = 0; m < table.count && !found; ++m) found = std::strcmp(table.methods[m].name, utf) == 0;
            if (!found) {
                fail_load(env, "Kiln JNI: %s declares native method %s, but %s registers no such method",
                          class_name, utf, table.source_file);
            }
            env->ReleaseStringUTFChars(method_name, utf);
            if (!found) return false;
            env->DeleteLocalRef(method_name);
        }
        env->DeleteLocalRef(method);
    }
    return true;
}

// Registers one table, a method at a time so that a failure names the method.
bool register_table(JNIEnv* env, const NativesTable& table) {
    char name[128];
    dotted_name(table.java_class, name, sizeof name);
    if (env->PushLocalFrame(32) != JNI_OK) return fail_load(env, "Kiln JNI: out of local references");
    bool ok = true;
    jclass cls = env->FindClass(table.java_class);
    if (!cls) {
        ok = fail_load(env, "Kiln JNI: class %s, whose natives %s registers, was not found", name,
                       table.source_file);
    }
    for (size_t m = 0; ok && m < table.count; ++m) {
        if (env->RegisterNatives(cls, &table.methods[m], 1) != JNI_OK) {
            ok = fail_load(env, "Kiln JNI: %s has no static native method %s%s, which %s registers", name,
                           table.methods[m].name, table.methods[m].signature, table.source_file);
        }
    }
    if (ok) ok = check_java_natives_registered(env, cls, name, table);
    env->PopLocalFrame(nullptr);  // allowed with an exception pending; the pending exception is not a local ref
    return ok;
}

bool cache_classes(JNIEnv* env) {
    Cache& c = g_cache;
    // Each lookup only after the previous one succeeded: a failed FindClass or GetMethodID leaves its exception
    // pending, and no further JNI call but a few (exception handling, releases) is allowed then.
    const bool ok = (c.device_info = global_class(env, "dev/kiln/DeviceInfo")) &&
                    (c.device_info_ctor = env->GetMethodID(c.device_info, "<init>", "(Ljava/lang/String;JJIII)V")) &&
                    (c.illegal_argument = global_class(env, "java/lang/IllegalArgumentException")) &&
                    (c.kiln_exception = global_class(env, "dev/kiln/KilnException")) &&
                    (c.out_of_memory = global_class(env, "dev/kiln/KilnOutOfMemoryException")) &&
                    (c.cuda_exception = global_class(env, "dev/kiln/KilnCudaException")) &&
                    (c.device_unavailable = global_class(env, "dev/kiln/DeviceUnavailableException"));
    if (ok) return true;
    return fail_load(env, "Kiln JNI: a class the glue throws or creates (dev.kiln.DeviceInfo, dev.kiln.Kiln*Exception, "
                          "DeviceUnavailableException) is missing or changed");
}

}  // namespace

const Cache& cache() { return g_cache; }

bool add_natives(const char* java_class, const char* source_file, const JNINativeMethod* methods, size_t count) {
    tables().push_back({java_class, glue_file(source_file), methods, count});
    return true;
}

void dotted_name(const char* java_class, char* out, size_t size) {
    std::snprintf(out, size, "%s", java_class);
    for (char* c = out; *c; ++c) {
        if (*c == '/') *c = '.';
    }
}

bool fail_load(JNIEnv* env, const char* format, ...) {
    char message[512];
    va_list args;
    va_start(args, format);
    std::vsnprintf(message, sizeof message, format, args);
    va_end(args);
    env->ExceptionClear();
    jclass error = env->FindClass("java/lang/UnsatisfiedLinkError");
    if (error) env->ThrowNew(error, message);
    return false;
}

void throw_illegal_argument(JNIEnv* env, const char* message) { env->ThrowNew(g_cache.illegal_argument, message); }

bool array_range_ok(JNIEnv* env, jarray array, jint offset, jint count) {
    if (!array) {
        throw_illegal_argument(env, "Kiln JNI: the Java array is null");
        return false;
    }
    const jsize length = env->GetArrayLength(array);
    if (offset < 0 || count < 0 || offset > length - count) {
        char message[160];
        std::snprintf(message, sizeof message, "Kiln JNI: elements [%d, %d + %d) are outside a Java array of %d", offset,
                      offset, count, length);
        throw_illegal_argument(env, message);
        return false;
    }
    return true;
}

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

// A failure leaves an UnsatisfiedLinkError pending, which System.load throws with its message.
extern "C" JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM* vm, void*) {
    using namespace kiln::jni;
    JNIEnv* env = nullptr;
    if (vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8) != JNI_OK) return JNI_ERR;
    if (!cache_classes(env) || !resolve_descriptors(env)) return JNI_ERR;
    for (const NativesTable& table : tables()) {
        if (!register_table(env, table)) return JNI_ERR;
    }
    return JNI_VERSION_1_8;
}

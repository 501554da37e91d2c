// Glue written by the compiler from kiln.h. A binding class declares a static native named exactly like a C ABI entry
// (`private static native void kiln_reparameterize_f32(long ctx, long mu, ...)`) and calls NativeLibrary.bindAbi on
// itself; the JNI function behind it is Glue<entry> below, derived from the entry's C prototype. So an op family whose
// arguments are numbers, device addresses and descriptor records needs no hand-written glue file, and the Java
// declaration is checked against kiln.h when it binds (a wrong parameter type fails the bind, naming both signatures).
//
// The entries come from kiln_abi_entries.inc, which CMake writes at configure time from every
// `KILN_API kiln_status kiln_...(` line of kiln.h. An entry with a parameter that has no Java form (a host out-pointer
// to a struct, a string, a context out-handle) is listed but left unbound: its family keeps a glue function by hand.
// So are the entries in kHandWritten, whose parameters all look like a Java long but are host memory (a scalar
// out-value, a host buffer) or end a handle's life: bound here, a Java long meant for a device address would do harm.
#include <jni.h>

#include <cstring>
#include <string>
#include <tuple>
#include <type_traits>

#include "jni/jni_record.h"
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

// How one C parameter type crosses JNI: its JNI type, its letter in the method signature, and a Value that holds the
// converted argument for the length of the call. The primary template is a type with no Java form.
template <class T, class = void>
struct JavaArg {
    static constexpr bool bindable = false;
    using jtype = jlong;
};

template <class T, class J, char Letter>
struct ScalarArg {
    static constexpr bool bindable = true;
    using jtype = J;
    static bool signature(std::string& s) {
        s += Letter;
        return true;
    }
    struct Value {
        T v;
        Value(JNIEnv*, J a) : v(static_cast<T>(a)) {}
        T get() const { return v; }
        static constexpr bool ok() { return true; }
    };
};

// Sizes, counts, seeds and offsets (int64_t, uint64_t, size_t): Java long, passed bit for bit.
template <class T>
struct JavaArg<T, std::enable_if_t<std::is_integral_v<T> && sizeof(T) == 8>> : ScalarArg<T, jlong, 'J'> {};
// int32 flags and the enums of kiln.h (kiln_binary_op, kiln_activation, ...): Java int.
template <class T>
struct JavaArg<T, std::enable_if_t<(std::is_integral_v<T> && sizeof(T) == 4) || std::is_enum_v<T>>>
    : ScalarArg<T, jint, 'I'> {};
template <>
struct JavaArg<float> : ScalarArg<float, jfloat, 'F'> {};
template <>
struct JavaArg<double> : ScalarArg<double, jdouble, 'D'> {};

// Addresses as Java long: device memory (float*, int32_t*, kiln_bf16*, void*) that the binding re-read from a live
// tensor, 0 for an optional argument left out; and the opaque handles. A char pointer is a string, not an address.
template <class T>
struct AddressArg {
    static constexpr bool bindable = true;
    using jtype = jlong;
    static bool signature(std::string& s) {
        s += 'J';
        return true;
    }
    struct Value {
        T* v;
        Value(JNIEnv*, jlong a) : v(reinterpret_cast<T*>(a)) {}
        T* get() const { return v; }
        static constexpr bool ok() { return true; }
    };
};
template <class T>
struct JavaArg<T*, std::enable_if_t<(std::is_arithmetic_v<std::remove_cv_t<T>> &&
                                     !std::is_same_v<std::remove_cv_t<T>, char>) ||
                                    std::is_void_v<T>>> : AddressArg<T> {};
template <>
struct JavaArg<kiln_context*> : AddressArg<kiln_context> {};
template <>
struct JavaArg<kiln_graph*> : AddressArg<kiln_graph> {};

// A descriptor (`const kiln_pool2d_desc*`): the Java record that the family's glue file registered for the struct
// with KILN_JNI_DESCRIPTOR, read into a C struct that lives for the call.
template <class S>
struct JavaArg<const S*, std::enable_if_t<std::is_class_v<S>>> {
    static constexpr bool bindable = true;
    using jtype = jobject;
    static bool signature(std::string& s) {
        const Descriptor<S>* d = descriptor_of<S>();
        if (!d) return false;
        s += 'L';
        s += d->java_class();
        s += ';';
        return true;
    }
    struct Value {
        S v{};
        bool read = false;
        Value(JNIEnv* env, jobject record) {
            const Descriptor<S>* d = descriptor_of<S>();
            if (d) {
                read = d->read(env, record, &v);  // false with an IllegalArgumentException pending
            } else {
                throw_illegal_argument(env, "Kiln JNI: no descriptor record is registered for this entry");
            }
        }
        const S* get() const { return &v; }
        bool ok() const { return read; }
    };
};

// The JNI function of entry F: convert every argument, call, throw the Java exception of a failed status.
template <class Fn, Fn F>
struct Glue;
template <class... A, kiln_status (*F)(A...)>
struct Glue<kiln_status (*)(A...), F> {
    static constexpr bool bindable = (JavaArg<A>::bindable && ...);

    static void call(JNIEnv* env, jclass, typename JavaArg<A>::jtype... args) {
        // Braced initialization converts left to right; only a descriptor touches JNI, and an entry has at most one.
        // ok() is a constant true for numbers and addresses, so an entry without a descriptor checks nothing here.
        const std::tuple<typename JavaArg<A>::Value...> values{typename JavaArg<A>::Value(env, args)...};
        std::apply([env](const auto&... v) {
            if ((v.ok() && ...)) throw_if_failed(env, F(v.get()...));
        }, values);
    }

    // "(JJJJJJJ)V"; false when a descriptor the entry takes has no record registered.
    static bool signature(std::string& s) {
        s = "(";
        const bool ok = (JavaArg<A>::signature(s) && ...);
        s += ")V";
        return ok;
    }
};

struct AbiEntry {
    const char* name;
    void* function;                    // null: a parameter has no Java form
    bool (*signature)(std::string&);   // null likewise
};

template <class Fn, Fn F>
AbiEntry abi_entry(const char* name) {
    if constexpr (Glue<Fn, F>::bindable) {
        return {name, reinterpret_cast<void*>(&Glue<Fn, F>::call), &Glue<Fn, F>::signature};
    } else {
        return {name, nullptr, nullptr};
    }
}

#define KILN_ABI_ENTRY(name) abi_entry<decltype(&name), &name>(#name),
const AbiEntry kEntries[] = {
#include "kiln_abi_entries.inc"
};
#undef KILN_ABI_ENTRY

// Entries that a Java long could reach but must not: host pointers and handle destruction (see the header comment).
constexpr const char* kHandWritten[] = {
    "kiln_context_destroy", "kiln_free", "kiln_copy_to_device", "kiln_copy_to_host", "kiln_graph_destroy",
    "kiln_graph_is_capturing", "kiln_profile_device_times", "kiln_stream_timer_stop", "kiln_flush_l2",
    "kiln_conv2d_workspace_size", "kiln_lstm_reserve_size",
};

const AbiEntry* find_entry(const char* name) {
    for (const char* hand : kHandWritten) {
        if (std::strcmp(hand, name) == 0) return nullptr;
    }
    for (const AbiEntry& e : kEntries) {
        if (std::strcmp(e.name, name) == 0) return e.function ? &e : nullptr;
    }
    return nullptr;
}

// NativeLibrary.abiSignature0(name): the JNI signature a Java declaration of entry `name` must have, or null when kiln.h
// has no such entry with a Java form.
jstring abi_signature(JNIEnv* env, jclass, jstring name) {
    const char* utf = name ? env->GetStringUTFChars(name, nullptr) : nullptr;
    if (!utf) return nullptr;
    const AbiEntry* e = find_entry(utf);
    env->ReleaseStringUTFChars(name, utf);
    std::string signature;
    if (!e || !e->signature(signature)) return nullptr;
    return env->NewStringUTF(signature.c_str());
}

// NativeLibrary.bindAbi0(binding, name): registers entry `name`'s glue as binding's static native of that name. The
// caller has checked the signature; a failure leaves RegisterNatives' NoSuchMethodError pending.
void bind_abi(JNIEnv* env, jclass, jclass binding, jstring name) {
    const char* utf = name ? env->GetStringUTFChars(name, nullptr) : nullptr;
    if (!utf) return;
    const AbiEntry* e = find_entry(utf);
    std::string signature;
    if (e && e->signature(signature)) {
        const JNINativeMethod method = {const_cast<char*>(e->name), const_cast<char*>(signature.c_str()), e->function};
        env->RegisterNatives(binding, &method, 1);
    } else {
        throw_illegal_argument(env, "Kiln JNI: no C ABI entry of that name with a Java form");
    }
    env->ReleaseStringUTFChars(name, utf);
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("abiSignature0", "(Ljava/lang/String;)Ljava/lang/String;", abi_signature),
    KILN_NATIVE("bindAbi0", "(Ljava/lang/Class;Ljava/lang/String;)V", bind_abi),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/NativeLibrary", kMethods);

}  // namespace kiln::jni

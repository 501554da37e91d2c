// Compile-time check that a static native's glue function takes the types its JNI signature string names, so a
// natives table can only pair "(JJF)V" with a function of (JNIEnv*, jclass, jlong, jlong, jfloat) returning void.
// RegisterNatives checks the string against the Java declaration at load; together the two close the loop.
#pragma once

#include <jni.h>

#include <cstddef>

namespace kiln::jni {

// The first character of a type's JNI signature: its letter, 'L' for any object, '[' for any array; and for an array,
// its element's letter (ArrayElement), so that "[F" cannot be paired with a jintArray parameter: the glue computes
// byte counts from the element size.
template <typename T>
struct SignatureCode;
template <typename T>
struct ArrayElement {
    static constexpr char value = '\0';
};
template <> struct SignatureCode<void> { static constexpr char value = 'V'; };
template <> struct SignatureCode<jboolean> { static constexpr char value = 'Z'; };
template <> struct SignatureCode<jint> { static constexpr char value = 'I'; };
template <> struct SignatureCode<jlong> { static constexpr char value = 'J'; };
template <> struct SignatureCode<jfloat> { static constexpr char value = 'F'; };
template <> struct SignatureCode<jdouble> { static constexpr char value = 'D'; };
template <> struct SignatureCode<jobject> { static constexpr char value = 'L'; };
template <> struct SignatureCode<jstring> { static constexpr char value = 'L'; };
template <> struct SignatureCode<jclass> { static constexpr char value = 'L'; };
#define KILN_JNI_ARRAY_CODE(Array, letter)                                  \
    template <> struct SignatureCode<Array> { static constexpr char value = '['; }; \
    template <> struct ArrayElement<Array> { static constexpr char value = letter; };
KILN_JNI_ARRAY_CODE(jobjectArray, 'L')
KILN_JNI_ARRAY_CODE(jintArray, 'I')
KILN_JNI_ARRAY_CODE(jlongArray, 'J')
KILN_JNI_ARRAY_CODE(jfloatArray, 'F')
KILN_JNI_ARRAY_CODE(jdoubleArray, 'D')
KILN_JNI_ARRAY_CODE(jshortArray, 'S')
#undef KILN_JNI_ARRAY_CODE

// Past one type in a signature: a primitive letter, "Lpkg/Name;", or '[' and its element type.
constexpr const char* skip_signature_type(const char* s) {
    while (*s == '[') ++s;
    if (*s == 'L') {
        while (*s && *s != ';') ++s;
    }
    return *s ? s + 1 : s;
}

template <typename R, typename... A>
constexpr bool signature_matches(R (*)(JNIEnv*, jclass, A...), const char* s) {
    const char codes[] = {SignatureCode<A>::value..., '\0'};
    const char elements[] = {ArrayElement<A>::value..., '\0'};
    if (*s++ != '(') return false;
    for (size_t i = 0; i < sizeof...(A); ++i) {
        if (*s != codes[i]) return false;
        if (codes[i] == '[' && s[1] != elements[i]) return false;  // one level of array is all the glue takes
        s = skip_signature_type(s);
    }
    if (*s++ != ')') return false;
    return *s == SignatureCode<R>::value && *skip_signature_type(s) == '\0';
}

// The check rejects what it should: an int[] parameter is not a float[] one.
static_assert(!signature_matches(static_cast<void (*)(JNIEnv*, jclass, jintArray)>(nullptr), "([F)V"));
static_assert(signature_matches(static_cast<void (*)(JNIEnv*, jclass, jfloatArray)>(nullptr), "([F)V"));

}  // namespace kiln::jni

// Java descriptor records read into C ABI structs, with the layout written once: a table of {Java field, C field,
// offset} per descriptor. The C side is checked when the table compiles (every struct field mapped exactly once, with
// its C type taken from kiln.h); the Java side when the library loads (every field found as a long, and the record
// has no component the table lacks), so a rename on either side fails early and names the field.
#pragma once

#include <jni.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace kiln::jni {

// The C type a Java long field lands in; int32 fields are range-checked on every read.
enum class CField { Int64, Int32 };

template <typename T>
constexpr CField c_field_kind() {
    static_assert(std::is_same_v<T, int64_t> || std::is_same_v<T, int32_t>,
                  "descriptor fields must be int64_t or int32_t in kiln.h (extend CField for other types)");
    return std::is_same_v<T, int64_t> ? CField::Int64 : CField::Int32;
}

struct RecordField {
    const char* java_name;  // the record component, a Java long
    const char* c_name;     // the struct field in kiln.h
    CField kind;
    size_t offset;
};

// True when `fields` covers CStruct exactly: sizes add up to the struct and no offset repeats (kiln.h's descriptors
// have no padding, so a field left out of the table shows up as a missing size).
template <typename CStruct, size_t N>
constexpr bool covers_struct(const RecordField (&fields)[N]) {
    size_t bytes = 0;
    for (size_t i = 0; i < N; ++i) {
        bytes += fields[i].kind == CField::Int64 ? 8 : 4;
        for (size_t j = 0; j < i; ++j) {
            if (fields[j].offset == fields[i].offset) return false;
        }
    }
    return bytes == sizeof(CStruct);
}

// One descriptor's mapping; constructed at namespace scope (KILN_JNI_DESCRIPTOR), it adds itself to the list that
// JNI_OnLoad resolves.
class RecordLayout {
public:
    RecordLayout(const char* java_class, const char* c_struct, const char* source_file, const RecordField* fields,
                 size_t count);
    RecordLayout(const RecordLayout&) = delete;
    RecordLayout& operator=(const RecordLayout&) = delete;

    // Looks up every field id; false with a pending UnsatisfiedLinkError that names the record and the field.
    bool resolve(JNIEnv* env);
    // "dev/kiln/internal/Pool2dDesc": the record's JNI class name.
    const char* java_class() const { return java_class_; }

protected:
    // Fills the struct at `out` from `record`; false with a pending IllegalArgumentException when the record is null
    // or an int32 field does not fit (a silent truncation would turn a bad call into a different, valid one).
    bool read_into(JNIEnv* env, jobject record, void* out) const;

private:
    static constexpr size_t kMaxFields = 32;
    const char* java_class_;
    const char* c_struct_;
    const char* source_file_;
    const RecordField* fields_;
    size_t count_;
    jfieldID ids_[kMaxFields] = {};
};

template <typename CStruct>
class Descriptor;

// The descriptor registered for CStruct, or null: how the glue generated from kiln.h (jni_abi.cpp) turns a
// `const CStruct*` parameter into the Java record that the family's glue file maps.
template <typename CStruct>
const Descriptor<CStruct>*& descriptor_of() {
    static const Descriptor<CStruct>* registered = nullptr;
    return registered;
}

template <typename CStruct>
class Descriptor : public RecordLayout {
public:
    template <size_t N>
    Descriptor(const char* java_class, const char* c_struct, const char* source_file, const RecordField (&fields)[N])
        : RecordLayout(java_class, c_struct, source_file, fields, N) {
        descriptor_of<CStruct>() = this;
    }

    bool read(JNIEnv* env, jobject record, CStruct* out) const { return read_into(env, record, out); }
};

// Resolves every descriptor constructed so far; false with a pending exception on the first failure.
bool resolve_descriptors(JNIEnv* env);

}  // namespace kiln::jni

// One table row: the C field and the Java record component it comes from.
#define KILN_RECORD_FIELD(CStruct, c_field, java_name)                                          \
    ::kiln::jni::RecordField {                                                                  \
        java_name, #c_field, ::kiln::jni::c_field_kind<decltype(CStruct::c_field)>(), offsetof(CStruct, c_field) \
    }

// Declares `name`, the Descriptor<CStruct> of Java record `java_class`, from the constexpr table `fields`.
#define KILN_JNI_DESCRIPTOR(name, java_class, CStruct, fields)                                        \
    static_assert(::kiln::jni::covers_struct<CStruct>(fields),                                        \
                  #fields ": the table must map every field of " #CStruct " exactly once");          \
    const ::kiln::jni::Descriptor<CStruct> name(java_class, #CStruct, __FILE__, fields)

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

// How a record component lands in its C field: a Java long into int64_t or uint64_t (bit for bit) or into int32_t
// (range-checked on every read), a Java float into a float, and a Java boolean into an int32_t flag (0 or 1).
enum class CField { Int64, Int32, Float32, Flag };

template <typename Field>
constexpr CField c_field_kind() {
    using T = std::remove_cv_t<std::remove_reference_t<Field>>;
    static_assert(std::is_same_v<T, int64_t> || std::is_same_v<T, uint64_t> || std::is_same_v<T, int32_t> ||
                      std::is_same_v<T, float>,
                  "descriptor fields must be int64_t, uint64_t, int32_t or float in kiln.h (extend CField for others)");
    return sizeof(T) == 8 ? CField::Int64 : std::is_same_v<T, float> ? CField::Float32 : CField::Int32;
}

template <typename Field>
constexpr CField c_flag_kind() {
    static_assert(std::is_same_v<std::remove_cv_t<std::remove_reference_t<Field>>, int32_t>,
                  "a flag (KILN_RECORD_FLAG) must be an int32_t in kiln.h");
    return CField::Flag;
}

constexpr size_t c_field_bytes(CField kind) { return kind == CField::Int64 ? 8 : 4; }

struct RecordField {
    const char* java_name;  // the record component: a long, a float or (for a Flag) a boolean
    const char* c_name;     // the struct field in kiln.h
    CField kind;
    size_t offset;
};

// True when `fields` covers CStruct exactly: sizes add up to the struct less its alignment padding (`padding` bytes,
// which the descriptor's table states), and no offset repeats, so a field left out of the table shows up as a
// missing size.
template <typename CStruct, size_t N>
constexpr bool covers_struct(const RecordField (&fields)[N], size_t padding = 0) {
    size_t bytes = padding;
    for (size_t i = 0; i < N; ++i) {
        bytes += c_field_bytes(fields[i].kind);
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

// One table row: the C field (an array element such as q_stride[0] is fine) and the Java record component it comes
// from, whose Java type follows from the C one.
#define KILN_RECORD_FIELD(CStruct, c_field, java_name)                                                      \
    ::kiln::jni::RecordField {                                                                              \
        java_name, #c_field, ::kiln::jni::c_field_kind<decltype(CStruct::c_field)>(), offsetof(CStruct, c_field) \
    }
// An int32_t flag of the C struct from a Java boolean component.
#define KILN_RECORD_FLAG(CStruct, c_field, java_name)                                                          \
    ::kiln::jni::RecordField {                                                                                 \
        java_name, #c_field, ::kiln::jni::c_flag_kind<decltype(CStruct::c_field)>(), offsetof(CStruct, c_field) \
    }

// Declares `name`, the Descriptor<CStruct> of Java record `java_class`, from the constexpr table `fields`.
#define KILN_JNI_DESCRIPTOR(name, java_class, CStruct, fields)                                        \
    KILN_JNI_DESCRIPTOR_PADDED(name, java_class, CStruct, fields, 0)
// The same for a struct with `padding` bytes of alignment padding (kiln_attention_desc: 4 before its uint64s).
#define KILN_JNI_DESCRIPTOR_PADDED(name, java_class, CStruct, fields, padding)                        \
    static_assert(::kiln::jni::covers_struct<CStruct>(fields, padding),                               \
                  #fields ": the table must map every field of " #CStruct " exactly once");          \
    const ::kiln::jni::Descriptor<CStruct> name(java_class, #CStruct, __FILE__, fields)

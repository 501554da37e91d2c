// Descriptor records: field ids resolved at load (a missing or extra field fails the load, naming it), then read into
// their C structs generically on every call.
#include "jni/jni_record.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

std::vector<RecordLayout*>& layouts() {
    static std::vector<RecordLayout*> all;  // filled by static initializers, before JNI_OnLoad
    return all;
}

// Number of record components of `cls`, or -1 when it is not a record.
jint record_components(JNIEnv* env, jclass cls) {
    jclass class_class = env->FindClass("java/lang/Class");
    if (!class_class) return -1;
    jmethodID components = env->GetMethodID(class_class, "getRecordComponents", "()[Ljava/lang/reflect/RecordComponent;");
    if (!components) return -1;
    auto array = static_cast<jobjectArray>(env->CallObjectMethod(cls, components));
    if (env->ExceptionCheck() || !array) return -1;
    const jint n = env->GetArrayLength(array);
    env->DeleteLocalRef(array);
    env->DeleteLocalRef(class_class);
    return n;
}

}  // namespace

RecordLayout::RecordLayout(const char* java_class, const char* c_struct, const char* source_file,
                           const RecordField* fields, size_t count)
    : java_class_(java_class), c_struct_(c_struct), source_file_(glue_file(source_file)), fields_(fields), count_(count) {
    layouts().push_back(this);
}

bool RecordLayout::resolve(JNIEnv* env) {
    char name[128];
    dotted_name(java_class_, name, sizeof name);
    if (count_ > kMaxFields) return fail_load(env, "Kiln JNI: %s maps more than %zu fields", c_struct_, kMaxFields);
    jclass cls = env->FindClass(java_class_);
    if (!cls) return fail_load(env, "Kiln JNI: descriptor record %s (for %s in %s) was not found", name, c_struct_, source_file_);
    for (size_t i = 0; i < count_; ++i) {
        const CField kind = fields_[i].kind;
        const char* type = kind == CField::Float32 ? "F" : kind == CField::Flag ? "Z" : "J";
        ids_[i] = env->GetFieldID(cls, fields_[i].java_name, type);
        if (!ids_[i]) {
            const char* java_type = *type == 'F' ? "float" : *type == 'Z' ? "boolean" : "long";
            return fail_load(env, "Kiln JNI: descriptor record %s has no %s field '%s' (mapped to %s.%s in %s)", name,
                             java_type, fields_[i].java_name, c_struct_, fields_[i].c_name, source_file_);
        }
    }
    const jint components = record_components(env, cls);
    env->DeleteLocalRef(cls);
    if (components < 0) return fail_load(env, "Kiln JNI: %s is not a record", name);
    if ((size_t)components != count_) {
        return fail_load(env, "Kiln JNI: descriptor record %s has %d components but %s maps %zu fields of %s", name,
                         (int)components, source_file_, count_, c_struct_);
    }
    return true;
}

bool RecordLayout::read_into(JNIEnv* env, jobject record, void* out) const {
    if (!record) {
        char message[160];
        std::snprintf(message, sizeof message, "%s descriptor is null", c_struct_);
        throw_illegal_argument(env, message);
        return false;
    }
    auto* base = static_cast<unsigned char*>(out);
    for (size_t i = 0; i < count_; ++i) {
        if (fields_[i].kind == CField::Float32) {
            const float f = env->GetFloatField(record, ids_[i]);
            std::memcpy(base + fields_[i].offset, &f, sizeof f);
            continue;
        }
        if (fields_[i].kind == CField::Flag) {
            const int32_t flag = env->GetBooleanField(record, ids_[i]) ? 1 : 0;
            std::memcpy(base + fields_[i].offset, &flag, sizeof flag);
            continue;
        }
        const jlong v = env->GetLongField(record, ids_[i]);
        if (fields_[i].kind == CField::Int64) {
            const int64_t wide = v;
            std::memcpy(base + fields_[i].offset, &wide, sizeof wide);
            continue;
        }
        if (v < INT32_MIN || v > INT32_MAX) {
            char message[200];
            std::snprintf(message, sizeof message, "%s: %s = %" PRId64 " does not fit in 32 bits (%s.%s is int32)",
                          c_struct_, fields_[i].java_name, (int64_t)v, c_struct_, fields_[i].c_name);
            throw_illegal_argument(env, message);
            return false;
        }
        const int32_t narrow = (int32_t)v;
        std::memcpy(base + fields_[i].offset, &narrow, sizeof narrow);
    }
    return true;
}

bool resolve_descriptors(JNIEnv* env) {
    for (RecordLayout* layout : layouts()) {
        if (!layout->resolve(env)) return false;
    }
    return true;
}

}  // namespace kiln::jni

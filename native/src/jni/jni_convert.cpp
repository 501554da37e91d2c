// JNI glue for dev.kiln.internal.ConvertNative's Java-array copies: the raw bf16 bits of a tensor slice to and from a
// Java short[] (checkpoints move bf16 data as it is stored, never through a rounding). The conversions themselves are
// bound from kiln.h (jni_abi.cpp). Glue only.
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("copyFromShortArray0", "(JJ[SII)V", (copy_from_array<jshort, jshortArray>)),
    KILN_NATIVE("copyToShortArray0", "(JJ[SII)V", (copy_to_array<jshort, jshortArray>)),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/ConvertNative", kMethods);

}  // namespace kiln::jni

// The LstmDesc record's layout (the field table below is the one place it meets kiln_lstm_desc), through which the
// LSTM entries bound from kiln.h (jni_abi.cpp) read their descriptor; and the reserve-size query, whose host
// out-parameter has no Java form, by hand.
#include <cstdint>

#include "jni/jni_record.h"
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

constexpr RecordField kLstmFields[] = {
    KILN_RECORD_FIELD(kiln_lstm_desc, n, "n"),
    KILN_RECORD_FIELD(kiln_lstm_desc, t, "t"),
    KILN_RECORD_FIELD(kiln_lstm_desc, f, "f"),
    KILN_RECORD_FIELD(kiln_lstm_desc, h, "h"),
};
KILN_JNI_DESCRIPTOR(kLstmDesc, "dev/kiln/internal/LstmDesc", kiln_lstm_desc, kLstmFields);

jlong reserve_size(JNIEnv* env, jclass, jobject desc) {
    kiln_lstm_desc d;
    if (!kLstmDesc.read(env, desc, &d)) return 0;
    uint64_t bytes = 0;
    if (throw_if_failed(env, kiln_lstm_reserve_size(&d, &bytes))) return 0;
    return (jlong)bytes;
}

#define KILN_LSTM_DESC "Ldev/kiln/internal/LstmDesc;"
const JNINativeMethod kMethods[] = {
    KILN_NATIVE("reserveSize0", "(" KILN_LSTM_DESC ")J", reserve_size),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/LstmNative", kMethods);

}  // namespace kiln::jni

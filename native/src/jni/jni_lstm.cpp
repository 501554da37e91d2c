// JNI glue for dev.kiln.internal.LstmNative: reads the LstmDesc record into a kiln_lstm_desc and calls kiln_lstm_*.
// Optional buffers arrive as address 0, which becomes NULL.
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

void forward(JNIEnv* env, jclass, jlong ctx, jobject desc, jlong x, jlong h0, jlong c0, jlong w_ih, jlong w_hh,
             jlong bias, jlong y, jlong h_n, jlong c_n, jlong reserve) {
    kiln_lstm_desc d;
    if (!kLstmDesc.read(env, desc, &d)) return;
    throw_if_failed(env, kiln_lstm_forward_f32(ctx_of(ctx), &d, ptr_of<const float>(x), ptr_of<const float>(h0),
                                               ptr_of<const float>(c0), ptr_of<const float>(w_ih),
                                               ptr_of<const float>(w_hh), ptr_of<const float>(bias), ptr_of<float>(y),
                                               ptr_of<float>(h_n), ptr_of<float>(c_n), ptr_of<void>(reserve)));
}

void backward(JNIEnv* env, jclass, jlong ctx, jobject desc, jlong x, jlong h0, jlong c0, jlong w_ih, jlong w_hh,
              jlong reserve, jlong dy, jlong dh_n, jlong dc_n, jlong dx, jlong dh0, jlong dc0, jlong dw_ih,
              jlong dw_hh, jlong dbias) {
    kiln_lstm_desc d;
    if (!kLstmDesc.read(env, desc, &d)) return;
    throw_if_failed(env, kiln_lstm_backward_f32(ctx_of(ctx), &d, ptr_of<const float>(x), ptr_of<const float>(h0),
                                                ptr_of<const float>(c0), ptr_of<const float>(w_ih),
                                                ptr_of<const float>(w_hh), ptr_of<const void>(reserve),
                                                ptr_of<const float>(dy), ptr_of<const float>(dh_n),
                                                ptr_of<const float>(dc_n), ptr_of<float>(dx), ptr_of<float>(dh0),
                                                ptr_of<float>(dc0), ptr_of<float>(dw_ih), ptr_of<float>(dw_hh),
                                                ptr_of<float>(dbias)));
}

#define KILN_LSTM_DESC "Ldev/kiln/internal/LstmDesc;"
const JNINativeMethod kMethods[] = {
    KILN_NATIVE("reserveSize0", "(" KILN_LSTM_DESC ")J", reserve_size),
    KILN_NATIVE("forward0", "(J" KILN_LSTM_DESC "JJJJJJJJJJ)V", forward),
    KILN_NATIVE("backward0", "(J" KILN_LSTM_DESC "JJJJJJJJJJJJJJJ)V", backward),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/LstmNative", kMethods);

}  // namespace kiln::jni

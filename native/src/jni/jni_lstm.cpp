// JNI glue for the LSTM layer: unpacks the Java descriptor long[4] = {n, t, f, h} and calls kiln_lstm_*. Optional
// buffers arrive as address 0, which becomes NULL.
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

constexpr int kDescLength = 4;

bool unpack(JNIEnv* env, jlongArray desc, kiln_lstm_desc* d) {
    jlong v[kDescLength];
    if (!read_desc(env, desc, kDescLength, v)) return false;
    d->n = v[0];
    d->t = v[1];
    d->f = v[2];
    d->h = v[3];
    return true;
}

jlong reserve_size(JNIEnv* env, jclass, jlongArray desc) {
    kiln_lstm_desc d;
    if (!unpack(env, desc, &d)) return 0;
    uint64_t bytes = 0;
    if (throw_if_failed(env, kiln_lstm_reserve_size(&d, &bytes))) return 0;
    return (jlong)bytes;
}

void forward(JNIEnv* env, jclass, jlong ctx, jlongArray desc, jlong x, jlong h0, jlong c0, jlong w_ih, jlong w_hh,
             jlong bias, jlong y, jlong h_n, jlong c_n, jlong reserve) {
    kiln_lstm_desc d;
    if (!unpack(env, desc, &d)) return;
    throw_if_failed(env, kiln_lstm_forward_f32(ctx_of(ctx), &d, ptr_of<const float>(x), ptr_of<const float>(h0),
                                               ptr_of<const float>(c0), ptr_of<const float>(w_ih),
                                               ptr_of<const float>(w_hh), ptr_of<const float>(bias), ptr_of<float>(y),
                                               ptr_of<float>(h_n), ptr_of<float>(c_n), ptr_of<void>(reserve)));
}

void backward(JNIEnv* env, jclass, jlong ctx, jlongArray desc, jlong x, jlong h0, jlong c0, jlong w_ih, jlong w_hh,
              jlong reserve, jlong dy, jlong dh_n, jlong dc_n, jlong dx, jlong dh0, jlong dc0, jlong dw_ih,
              jlong dw_hh, jlong dbias) {
    kiln_lstm_desc d;
    if (!unpack(env, desc, &d)) return;
    throw_if_failed(env, kiln_lstm_backward_f32(ctx_of(ctx), &d, ptr_of<const float>(x), ptr_of<const float>(h0),
                                                ptr_of<const float>(c0), ptr_of<const float>(w_ih),
                                                ptr_of<const float>(w_hh), ptr_of<const void>(reserve),
                                                ptr_of<const float>(dy), ptr_of<const float>(dh_n),
                                                ptr_of<const float>(dc_n), ptr_of<float>(dx), ptr_of<float>(dh0),
                                                ptr_of<float>(dc0), ptr_of<float>(dw_ih), ptr_of<float>(dw_hh),
                                                ptr_of<float>(dbias)));
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("lstmReserveSize0", "([J)J", reserve_size),
    KILN_NATIVE("lstmForward0", "(J[JJJJJJJJJJJ)V", forward),
    KILN_NATIVE("lstmBackward0", "(J[JJJJJJJJJJJJJJJJ)V", backward),
};

}  // namespace

bool register_lstm_natives(JNIEnv* env, jclass native_class) {
    return env->RegisterNatives(native_class, kMethods, sizeof(kMethods) / sizeof(kMethods[0])) == JNI_OK;
}

}  // namespace kiln::jni

// JNI glue for dev.kiln.internal.PoolNative: 2-D max and average pooling. Reads the Pool2dDesc record into a
// kiln_pool2d_desc (the field table below is the one place their layouts meet) and calls the C ABI. Glue only.
#include <cstdint>

#include "jni/jni_record.h"
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

constexpr RecordField kPool2dFields[] = {
    KILN_RECORD_FIELD(kiln_pool2d_desc, n, "n"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, c, "c"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, h, "h"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, w, "w"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, kernel_h, "kernelH"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, kernel_w, "kernelW"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, stride_h, "strideH"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, stride_w, "strideW"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, pad_h, "padH"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, pad_w, "padW"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, p, "p"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, q, "q"),
};
KILN_JNI_DESCRIPTOR(kPool2dDesc, "dev/kiln/internal/Pool2dDesc", kiln_pool2d_desc, kPool2dFields);

// x (n, c, h, w) -> y, index (n, c, p, q); index is int32.
void max_pool2d(JNIEnv* env, jclass, jlong ctx, jobject desc, jlong x, jlong y, jlong index) {
    kiln_pool2d_desc d;
    if (!kPool2dDesc.read(env, desc, &d)) return;
    throw_if_failed(env, kiln_max_pool2d_f32(ctx_of(ctx), &d, ptr_of<const float>(x), ptr_of<float>(y),
                                             ptr_of<int32_t>(index)));
}

void max_pool2d_backward(JNIEnv* env, jclass, jlong ctx, jobject desc, jlong dy, jlong index, jlong dx) {
    kiln_pool2d_desc d;
    if (!kPool2dDesc.read(env, desc, &d)) return;
    throw_if_failed(env, kiln_max_pool2d_backward_f32(ctx_of(ctx), &d, ptr_of<const float>(dy),
                                                      ptr_of<const int32_t>(index), ptr_of<float>(dx)));
}

void avg_pool2d(JNIEnv* env, jclass, jlong ctx, jobject desc, jlong x, jlong y, jboolean count_include_pad) {
    kiln_pool2d_desc d;
    if (!kPool2dDesc.read(env, desc, &d)) return;
    throw_if_failed(env, kiln_avg_pool2d_f32(ctx_of(ctx), &d, ptr_of<const float>(x), ptr_of<float>(y),
                                             count_include_pad ? 1 : 0));
}

void avg_pool2d_backward(JNIEnv* env, jclass, jlong ctx, jobject desc, jlong dy, jlong dx,
                         jboolean count_include_pad) {
    kiln_pool2d_desc d;
    if (!kPool2dDesc.read(env, desc, &d)) return;
    throw_if_failed(env, kiln_avg_pool2d_backward_f32(ctx_of(ctx), &d, ptr_of<const float>(dy), ptr_of<float>(dx),
                                                      count_include_pad ? 1 : 0));
}

#define KILN_POOL2D_DESC "Ldev/kiln/internal/Pool2dDesc;"
const JNINativeMethod kMethods[] = {
    KILN_NATIVE("maxPool2d0", "(J" KILN_POOL2D_DESC "JJJ)V", max_pool2d),
    KILN_NATIVE("maxPool2dBackward0", "(J" KILN_POOL2D_DESC "JJJ)V", max_pool2d_backward),
    KILN_NATIVE("avgPool2d0", "(J" KILN_POOL2D_DESC "JJZ)V", avg_pool2d),
    KILN_NATIVE("avgPool2dBackward0", "(J" KILN_POOL2D_DESC "JJZ)V", avg_pool2d_backward),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/PoolNative", kMethods);

}  // namespace kiln::jni

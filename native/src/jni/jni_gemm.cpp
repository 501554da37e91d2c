// JNI glue for dev.kiln.internal.GemmNative: packs the named Java arguments into a kiln_gemm_desc and calls
// kiln_gemm_f32.
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

// C (m, n) = alpha op(A) op(B) + beta C over `batch` matrices; see kiln_gemm_desc for the layouts.
void gemm(JNIEnv* env, jclass, jlong ctx, jboolean trans_a, jboolean trans_b, jlong m, jlong n, jlong k, jfloat alpha,
          jlong a, jlong lda, jlong stride_a, jlong b, jlong ldb, jlong stride_b, jfloat beta, jlong c, jlong ldc,
          jlong stride_c, jlong batch) {
    kiln_gemm_desc d;
    d.trans_a = trans_a ? 1 : 0;
    d.trans_b = trans_b ? 1 : 0;
    d.m = m;
    d.n = n;
    d.k = k;
    d.lda = lda;
    d.ldb = ldb;
    d.ldc = ldc;
    d.batch = batch;
    d.stride_a = stride_a;
    d.stride_b = stride_b;
    d.stride_c = stride_c;
    d.alpha = alpha;
    d.beta = beta;
    throw_if_failed(env, kiln_gemm_f32(ctx_of(ctx), &d, ptr_of<const float>(a), ptr_of<const float>(b), ptr_of<float>(c)));
}

const JNINativeMethod kMethods[] = {
    KILN_NATIVE("gemm0", "(JZZJJJFJJJJJJFJJJJ)V", gemm),
};

}  // namespace

KILN_JNI_REGISTER("dev/kiln/internal/GemmNative", kMethods);

}  // namespace kiln::jni

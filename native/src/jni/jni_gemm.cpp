// The GemmDesc record's layout: the field table below is the one place it meets kiln_gemm_desc. kiln_gemm_f32 itself
// is bound to dev.kiln.internal.GemmNative from kiln.h (jni_abi.cpp), which reads the record through this table.
#include "jni/jni_record.h"
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

constexpr RecordField kGemmFields[] = {
    KILN_RECORD_FLAG(kiln_gemm_desc, trans_a, "transA"),
    KILN_RECORD_FLAG(kiln_gemm_desc, trans_b, "transB"),
    KILN_RECORD_FIELD(kiln_gemm_desc, m, "m"),
    KILN_RECORD_FIELD(kiln_gemm_desc, n, "n"),
    KILN_RECORD_FIELD(kiln_gemm_desc, k, "k"),
    KILN_RECORD_FIELD(kiln_gemm_desc, lda, "lda"),
    KILN_RECORD_FIELD(kiln_gemm_desc, ldb, "ldb"),
    KILN_RECORD_FIELD(kiln_gemm_desc, ldc, "ldc"),
    KILN_RECORD_FIELD(kiln_gemm_desc, batch, "batch"),
    KILN_RECORD_FIELD(kiln_gemm_desc, stride_a, "strideA"),
    KILN_RECORD_FIELD(kiln_gemm_desc, stride_b, "strideB"),
    KILN_RECORD_FIELD(kiln_gemm_desc, stride_c, "strideC"),
    KILN_RECORD_FIELD(kiln_gemm_desc, alpha, "alpha"),
    KILN_RECORD_FIELD(kiln_gemm_desc, beta, "beta"),
};
KILN_JNI_DESCRIPTOR(kGemmDesc, "dev/kiln/internal/GemmDesc", kiln_gemm_desc, kGemmFields);

}  // namespace

}  // namespace kiln::jni

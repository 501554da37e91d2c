package dev.kiln.internal;

/**
 * One (batched) GEMM, field for field {@code kiln_gemm_desc} in kiln.h: C (m, n) = alpha op(A) op(B) + beta C for
 * each of {@code batch} matrices, {@code stride*} elements apart. A is stored (m, k), or (k, m) when transA, with
 * leading dimension lda; B (k, n), or (n, k) when transB; C (m, n) with ldc. The table in
 * native/src/jni/jni_gemm.cpp maps each component to its C field; the library refuses to load when a name differs.
 */
public record GemmDesc(boolean transA, boolean transB, long m, long n, long k, long lda, long ldb, long ldc,
                       long batch, long strideA, long strideB, long strideC, float alpha, float beta) {
    /** Elements each operand spans over the batch: what the binding checks the tensors hold. */
    long aSpan() {
        return span(transA ? k : m, transA ? m : k, lda, strideA);
    }

    long bSpan() {
        return span(transB ? n : k, transB ? k : n, ldb, strideB);
    }

    long cSpan() {
        return span(m, n, ldc, strideC);
    }

    /** Multiplies and adds, counted apart: 2 m n k per matrix. */
    long flops() {
        return (long) (2.0 * m * n * k * Math.max(batch, 1));
    }

    /** Elements spanned by {@code batch} stored (rows, cols) matrices with leading dimension ld. */
    private long span(long rows, long cols, long ld, long stride) {
        long one = Sizes.strided(rows, ld, cols);
        return batch <= 1 || one == 0 ? one : Sizes.strided(batch, stride, one);
    }
}

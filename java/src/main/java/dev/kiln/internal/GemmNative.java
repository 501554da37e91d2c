package dev.kiln.internal;

import dev.kiln.Tensor;

/**
 * Binding of the GEMM (native/src/jni/jni_gemm.cpp). Each operand must span its strided batch of stored matrices:
 * A is stored (m, k), or (k, m) when transA, with leading dimension lda; B (k, n), or (n, k) when transB; C (m, n).
 * Not public API.
 */
public final class GemmNative {
    private GemmNative() {
    }

    /** c = alpha op(a) op(b) + beta c for each of {@code batch} matrices, {@code stride*} elements apart. */
    public static void gemm(boolean transA, boolean transB, long m, long n, long k, float alpha,
                            Tensor a, long lda, long strideA, Tensor b, long ldb, long strideB,
                            float beta, Tensor c, long ldc, long strideC, long batch) {
        Call call = new Call("gemm");
        long aa = call.f32("a", a, span(transA ? k : m, transA ? m : k, lda, strideA, batch));
        long ba = call.f32("b", b, span(transB ? n : k, transB ? k : n, ldb, strideB, batch));
        long ca = call.f32("c", c, span(m, n, ldc, strideC, batch));
        call.flops((long) (2.0 * m * n * k * Math.max(batch, 1)));
        gemm0(call.context(), transA, transB, m, n, k, alpha, aa, lda, strideA, ba, ldb, strideB, beta, ca, ldc, strideC, batch);
        call.fence();
    }

    /** Elements spanned by {@code batch} stored (rows, cols) matrices with leading dimension ld. */
    private static long span(long rows, long cols, long ld, long stride, long batch) {
        long one = Sizes.strided(rows, ld, cols);
        return batch <= 1 || one == 0 ? one : Sizes.strided(batch, stride, one);
    }

    // ---- natives (registered by JNI_OnLoad from native/src/jni/jni_gemm.cpp) ------------------------------------

    private static native void gemm0(long ctx, boolean transA, boolean transB, long m, long n, long k, float alpha,
                                     long a, long lda, long strideA, long b, long ldb, long strideB, float beta,
                                     long c, long ldc, long strideC, long batch);
}

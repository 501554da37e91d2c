package dev.kiln.internal;

import dev.kiln.Tensor;

/**
 * Binding of the GEMM (bound to kiln.h by NativeLibrary.bindAbi; the descriptor is a {@link GemmDesc}). Each operand
 * must span its strided batch of stored matrices. Not public API.
 */
public final class GemmNative {
    private GemmNative() {
    }

    static {
        NativeLibrary.bindAbi(GemmNative.class);
    }

    /** c = alpha op(a) op(b) + beta c for each of {@code batch} matrices, {@code stride*} elements apart. */
    public static void gemm(boolean transA, boolean transB, long m, long n, long k, float alpha,
                            Tensor a, long lda, long strideA, Tensor b, long ldb, long strideB,
                            float beta, Tensor c, long ldc, long strideC, long batch) {
        GemmDesc d = new GemmDesc(transA, transB, m, n, k, lda, ldb, ldc, batch, strideA, strideB, strideC, alpha, beta);
        Call call = new Call("gemm");
        long aa = call.f32("a", a, d.aSpan()), ba = call.f32("b", b, d.bSpan()), ca = call.f32("c", c, d.cSpan());
        call.flops(d.flops());
        kiln_gemm_f32(call.context(), d, aa, ba, ca);
        call.fence();
    }

    // ---- natives: C ABI entries of kiln.h, bound by NativeLibrary.bindAbi (native/src/jni/jni_abi.cpp) --------------

    private static native void kiln_gemm_f32(long ctx, GemmDesc desc, long a, long b, long c);
}

package dev.kiln.internal;

import dev.kiln.Tensor;

/**
 * Binding of layer norm (natives bound to kiln.h by NativeLibrary.bindAbi) over the last dimension of x seen as (rows,
 * cols). gamma and beta are (cols) and may be null (1 and 0); mean and rstd are (rows), saved by the forward for the
 * backward. Not public API.
 */
public final class LayerNormNative {
    private LayerNormNative() {
    }

    static {
        NativeLibrary.bindAbi(LayerNormNative.class);
    }

    /** y = (x - mean) rstd gamma + beta; mean and rstd are written unless null; y may be x. */
    public static void forward(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd, long rows,
                               long cols, float eps) {
        Call c = new Call("layer_norm");
        long all = Sizes.product(rows, cols);
        long xa = c.f32("x", x, all), ga = c.optionalF32("gamma", gamma, cols), ba = c.optionalF32("beta", beta, cols);
        long ya = c.f32("y", y, all), ma = c.optionalF32("mean", mean, rows), ra = c.optionalF32("rstd", rstd, rows);
        kiln_layer_norm_f32(c.context(), xa, ga, ba, ya, ma, ra, rows, cols, eps);
        c.fence();
    }

    /** dx, dgamma, dbeta (each null when not wanted) from dy, with the forward's mean and rstd. */
    public static void backward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx, Tensor dgamma,
                                Tensor dbeta, long rows, long cols) {
        Call c = new Call("layer_norm backward");
        long all = Sizes.product(rows, cols);
        long xa = c.f32("x", x, all), dya = c.f32("dy", dy, all), ga = c.optionalF32("gamma", gamma, cols);
        long ma = c.f32("mean", mean, rows), ra = c.f32("rstd", rstd, rows);
        long dxa = c.optionalF32("dx", dx, all), dga = c.optionalF32("dgamma", dgamma, cols);
        long dba = c.optionalF32("dbeta", dbeta, cols);
        kiln_layer_norm_backward_f32(c.context(), xa, dya, ga, ma, ra, dxa, dga, dba, rows, cols);
        c.fence();
    }

    // ---- natives: C ABI entries of kiln.h, bound by NativeLibrary.bindAbi (native/src/jni/jni_abi.cpp) --------------

    private static native void kiln_layer_norm_f32(long ctx, long x, long gamma, long beta, long y, long mean,
                                                   long rstd, long rows, long cols, float eps);
    private static native void kiln_layer_norm_backward_f32(long ctx, long x, long dy, long gamma, long mean, long rstd,
                                                            long dx, long dgamma, long dbeta, long rows, long cols);
}

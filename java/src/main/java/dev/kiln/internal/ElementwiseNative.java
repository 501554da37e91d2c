package dev.kiln.internal;

import dev.kiln.Tensor;

/**
 * Binding of the elementwise entries (natives bound to kiln.h by NativeLibrary.bindAbi): binary ops with
 * leading-dimension broadcast, activations, scale, axpy, dropout and the fused bias + GELU. Not public API.
 */
public final class ElementwiseNative {
    /** kiln_binary_op. */
    public static final int ADD = 0, SUB = 1, MUL = 2, DIV = 3;
    /** kiln_activation. */
    public static final int RELU = 0, LEAKY_RELU = 1, TANH = 2, SIGMOID = 3, GELU = 4;
    private static final String[] BINARY_NAMES = {"add", "sub", "mul", "div"};
    private static final String[] ACTIVATION_NAMES = {"relu", "leaky_relu", "tanh", "sigmoid", "gelu"};

    private ElementwiseNative() {
    }

    static {
        NativeLibrary.bindAbi(ElementwiseNative.class);
    }

    /** y (outer, inner) = a op b; an operand of stride 0 is (inner) broadcast over outer, else stride is inner. */
    public static void binary(int op, Tensor a, long strideA, Tensor b, long strideB, Tensor y, long outer, long inner) {
        Call c = new Call(name(BINARY_NAMES, op, "binary"));
        long aa = c.f32("a", a, Sizes.strided(outer, strideA, inner)), ba = c.f32("b", b, Sizes.strided(outer, strideB, inner));
        long ya = c.f32("y", y, Sizes.product(outer, inner));
        kiln_binary_f32(c.context(), op, aa, strideA, ba, strideB, ya, outer, inner);
        c.fence();
    }

    /** da, db (each null when not wanted) have the shapes of a, b; dy is (outer, inner). */
    public static void binaryBackward(int op, Tensor a, long strideA, Tensor b, long strideB, Tensor dy, Tensor da,
                                      Tensor db, long outer, long inner) {
        Call c = new Call(name(BINARY_NAMES, op, "binary") + " backward");
        long spanA = Sizes.strided(outer, strideA, inner), spanB = Sizes.strided(outer, strideB, inner);
        long aa = c.f32("a", a, spanA), ba = c.f32("b", b, spanB), dya = c.f32("dy", dy, Sizes.product(outer, inner));
        long daa = c.optionalF32("da", da, spanA), dba = c.optionalF32("db", db, spanB);
        kiln_binary_backward_f32(c.context(), op, aa, strideA, ba, strideB, dya, daa, dba, outer, inner);
        c.fence();
    }

    /** y = act(x) over all of y; alpha is leaky_relu's slope. */
    public static void activation(int act, Tensor x, Tensor y, float alpha) {
        Call c = new Call(name(ACTIVATION_NAMES, act, "activation"));
        long n = y == null ? 0 : y.numel(), xa = c.f32("x", x, n), ya = c.f32("y", y, n);
        kiln_activation_f32(c.context(), act, xa, ya, n, alpha);
        c.fence();
    }

    /** dx = dy act'(x) over all of dx, from the forward's input x and output y. */
    public static void activationBackward(int act, Tensor x, Tensor y, Tensor dy, Tensor dx, float alpha) {
        Call c = new Call(name(ACTIVATION_NAMES, act, "activation") + " backward");
        long n = dx == null ? 0 : dx.numel();
        long xa = c.f32("x", x, n), ya = c.f32("y", y, n), dya = c.f32("dy", dy, n), dxa = c.f32("dx", dx, n);
        kiln_activation_backward_f32(c.context(), act, xa, ya, dya, dxa, n, alpha);
        c.fence();
    }

    /** y = alpha x over all of y (y may be x). */
    public static void scale(Tensor x, Tensor y, float alpha) {
        Call c = new Call("scale");
        long n = y == null ? 0 : y.numel(), xa = c.f32("x", x, n), ya = c.f32("y", y, n);
        kiln_scale_f32(c.context(), xa, ya, n, alpha);
        c.fence();
    }

    /** y += alpha x over all of y. */
    public static void axpy(float alpha, Tensor x, Tensor y) {
        Call c = new Call("axpy");
        long n = y == null ? 0 : y.numel(), xa = c.f32("x", x, n), ya = c.f32("y", y, n);
        kiln_axpy_f32(c.context(), n, alpha, xa, ya);
        c.fence();
    }

    /** y = dropout(x) over all of y, the mask drawn from Philox (seed, offset). */
    public static void dropout(Tensor x, Tensor y, float p, long seed, long offset) {
        Call c = new Call("dropout");
        long n = y == null ? 0 : y.numel(), xa = c.f32("x", x, n), ya = c.f32("y", y, n);
        kiln_dropout_f32(c.context(), xa, ya, n, p, seed, offset);
        c.fence();
    }

    /** dx = the forward's mask applied to dy, regenerated from (seed, offset), over all of dx. */
    public static void dropoutBackward(Tensor dy, Tensor dx, float p, long seed, long offset) {
        Call c = new Call("dropout backward");
        long n = dx == null ? 0 : dx.numel(), dya = c.f32("dy", dy, n), dxa = c.f32("dx", dx, n);
        kiln_dropout_backward_f32(c.context(), dya, dxa, n, p, seed, offset);
        c.fence();
    }

    /** y (rows, cols) = gelu(x + bias) with bias (cols) along the last dimension; y may be x. */
    public static void biasGelu(Tensor x, Tensor bias, Tensor y, long rows, long cols) {
        Call c = new Call("bias_gelu");
        long n = Sizes.product(rows, cols);
        long xa = c.f32("x", x, n), ba = c.f32("bias", bias, cols), ya = c.f32("y", y, n);
        kiln_bias_gelu_f32(c.context(), xa, ba, ya, rows, cols);
        c.fence();
    }

    /** dx = dy gelu'(x + bias) and dbias = its sum over rows; either may be null (not wanted). */
    public static void biasGeluBackward(Tensor x, Tensor bias, Tensor dy, Tensor dx, Tensor dbias, long rows, long cols) {
        Call c = new Call("bias_gelu backward");
        long n = Sizes.product(rows, cols);
        long xa = c.f32("x", x, n), ba = c.f32("bias", bias, cols), dya = c.f32("dy", dy, n);
        long dxa = c.optionalF32("dx", dx, n), dba = c.optionalF32("dbias", dbias, cols);
        kiln_bias_gelu_backward_f32(c.context(), xa, ba, dya, dxa, dba, rows, cols);
        c.fence();
    }

    /** The op's name for messages; an unknown code is left for the C ABI to refuse. */
    private static String name(String[] names, int code, String family) {
        return code >= 0 && code < names.length ? names[code] : family + " " + code;
    }

    // ---- natives: C ABI entries of kiln.h, bound by NativeLibrary.bindAbi (native/src/jni/jni_abi.cpp) --------------

    private static native void kiln_binary_f32(long ctx, int op, long a, long strideA, long b, long strideB, long y,
                                               long outer, long inner);
    private static native void kiln_binary_backward_f32(long ctx, int op, long a, long strideA, long b, long strideB,
                                                        long dy, long da, long db, long outer, long inner);
    private static native void kiln_activation_f32(long ctx, int act, long x, long y, long n, float alpha);
    private static native void kiln_activation_backward_f32(long ctx, int act, long x, long y, long dy, long dx, long n,
                                                            float alpha);
    private static native void kiln_scale_f32(long ctx, long x, long y, long n, float alpha);
    private static native void kiln_axpy_f32(long ctx, long n, float alpha, long x, long y);
    private static native void kiln_dropout_f32(long ctx, long x, long y, long n, float p, long seed, long offset);
    private static native void kiln_dropout_backward_f32(long ctx, long dy, long dx, long n, float p, long seed,
                                                         long offset);
    private static native void kiln_bias_gelu_f32(long ctx, long x, long bias, long y, long rows, long cols);
    private static native void kiln_bias_gelu_backward_f32(long ctx, long x, long bias, long dy, long dx, long dbias,
                                                           long rows, long cols);
}

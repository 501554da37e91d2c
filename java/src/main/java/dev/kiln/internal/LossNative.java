package dev.kiln.internal;

import dev.kiln.Tensor;

/**
 * Binding of the mean losses (natives bound to kiln.h by NativeLibrary.bindAbi). {@code loss} and {@code dloss} are
 * one-element device tensors, so a training step never waits for the host. Not public API.
 */
public final class LossNative {
    private LossNative() {
    }

    static {
        NativeLibrary.bindAbi(LossNative.class);
    }

    /** loss = mean softmax cross entropy of logits (rows, cols) against int32 labels (rows); lse (rows) is kept. */
    public static void crossEntropy(Tensor logits, Tensor labels, Tensor loss, Tensor lse, long rows, long cols) {
        Call c = new Call("cross_entropy");
        long la = c.f32("logits", logits, Sizes.product(rows, cols)), ya = c.i32("labels", labels, rows);
        long lossa = c.f32("loss", loss, 1), lsea = c.f32("lse", lse, rows);
        kiln_cross_entropy_f32(c.context(), la, ya, lossa, lsea, rows, cols);
        c.fence();
    }

    public static void crossEntropyBackward(Tensor logits, Tensor labels, Tensor lse, Tensor dloss, Tensor dlogits,
                                            long rows, long cols) {
        Call c = new Call("cross_entropy backward");
        long n = Sizes.product(rows, cols), la = c.f32("logits", logits, n), ya = c.i32("labels", labels, rows);
        long lsea = c.f32("lse", lse, rows), dla = c.f32("dloss", dloss, 1), dxa = c.f32("dlogits", dlogits, n);
        kiln_cross_entropy_backward_f32(c.context(), la, ya, lsea, dla, dxa, rows, cols);
        c.fence();
    }

    /** loss = mean BCE of logits x against targets t, over all of x. */
    public static void bceWithLogits(Tensor x, Tensor t, Tensor loss) {
        Call c = new Call("bce_with_logits");
        long n = x == null ? 0 : x.numel(), xa = c.f32("x", x, n), ta = c.f32("target", t, n), la = c.f32("loss", loss, 1);
        kiln_bce_with_logits_f32(c.context(), xa, ta, la, n);
        c.fence();
    }

    public static void bceWithLogitsBackward(Tensor x, Tensor t, Tensor dloss, Tensor dx) {
        Call c = new Call("bce_with_logits backward");
        long n = x == null ? 0 : x.numel(), xa = c.f32("x", x, n), ta = c.f32("target", t, n);
        long dla = c.f32("dloss", dloss, 1), dxa = c.f32("dx", dx, n);
        kiln_bce_with_logits_backward_f32(c.context(), xa, ta, dla, dxa, n);
        c.fence();
    }

    /** loss = mean (x - t)^2 over all of x. */
    public static void mse(Tensor x, Tensor t, Tensor loss) {
        Call c = new Call("mse");
        long n = x == null ? 0 : x.numel(), xa = c.f32("x", x, n), ta = c.f32("target", t, n), la = c.f32("loss", loss, 1);
        kiln_mse_f32(c.context(), xa, ta, la, n);
        c.fence();
    }

    public static void mseBackward(Tensor x, Tensor t, Tensor dloss, Tensor dx) {
        Call c = new Call("mse backward");
        long n = x == null ? 0 : x.numel(), xa = c.f32("x", x, n), ta = c.f32("target", t, n);
        long dla = c.f32("dloss", dloss, 1), dxa = c.f32("dx", dx, n);
        kiln_mse_backward_f32(c.context(), xa, ta, dla, dxa, n);
        c.fence();
    }

    // ---- natives: C ABI entries of kiln.h, bound by NativeLibrary.bindAbi (native/src/jni/jni_abi.cpp) --------------

    private static native void kiln_cross_entropy_f32(long ctx, long logits, long labels, long loss, long lse,
                                                      long rows, long cols);
    private static native void kiln_cross_entropy_backward_f32(long ctx, long logits, long labels, long lse, long dloss,
                                                               long dlogits, long rows, long cols);
    private static native void kiln_bce_with_logits_f32(long ctx, long x, long t, long loss, long n);
    private static native void kiln_bce_with_logits_backward_f32(long ctx, long x, long t, long dloss, long dx, long n);
    private static native void kiln_mse_f32(long ctx, long x, long t, long loss, long n);
    private static native void kiln_mse_backward_f32(long ctx, long x, long t, long dloss, long dx, long n);
}

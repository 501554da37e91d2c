package dev.kiln.internal;

import dev.kiln.Tensor;

import java.util.Objects;

/**
 * Binding of the 2-D convolution (native/src/jni/jni_conv2d.cpp), NCHW: x (n, c, h, w), weight (k, c, r, s),
 * bias (k) or null, y (n, k, p, q), as {@link Conv2dDesc} gives them. Not public API.
 */
public final class Conv2dNative {
    private Conv2dNative() {
    }

    static {
        NativeLibrary.bindAbi(Conv2dNative.class);
    }

    public static void forward(Conv2dDesc d, Tensor x, Tensor w, Tensor bias, Tensor y) {
        Call c = new Call("conv2d forward");
        long xa = c.f32("x", x, desc(d).inputElements()), wa = c.f32("weight", w, d.weightElements());
        long ba = c.optionalF32("bias", bias, d.k()), ya = c.f32("y", y, d.outputElements());
        c.flops(d.flops());
        kiln_conv2d_forward_f32(c.context(), d, xa, wa, ba, ya);
        c.fence();
    }

    /** dx (n, c, h, w) from dy (n, k, p, q) and the weight. */
    public static void backwardData(Conv2dDesc d, Tensor dy, Tensor w, Tensor dx) {
        Call c = new Call("conv2d backward data");
        long dya = c.f32("dy", dy, desc(d).outputElements()), wa = c.f32("weight", w, d.weightElements());
        long dxa = c.f32("dx", dx, d.inputElements());
        c.flops(d.flops());
        kiln_conv2d_backward_data_f32(c.context(), d, dya, wa, dxa);
        c.fence();
    }

    /** dw (k, c, r, s) and, unless dbias is null, dbias (k) from x and dy. */
    public static void backwardWeight(Conv2dDesc d, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        Call c = new Call("conv2d backward weight");
        long xa = c.f32("x", x, desc(d).inputElements()), dya = c.f32("dy", dy, d.outputElements());
        long dwa = c.f32("dw", dw, d.weightElements()), dba = c.optionalF32("dbias", dbias, d.k());
        c.flops(d.flops());
        kiln_conv2d_backward_weight_f32(c.context(), d, xa, dya, dwa, dba);
        c.fence();
    }

    /** Bytes of scratch the CPU backend takes per call for this shape. */
    public static long workspaceSize(Conv2dDesc d) {
        NativeLibrary.ensureLoaded();
        return workspaceSize0(desc(d));
    }

    private static Conv2dDesc desc(Conv2dDesc d) {
        return Objects.requireNonNull(d, "conv2d: descriptor is null");
    }

    // ---- natives: kiln_* bound to kiln.h by NativeLibrary.bindAbi; the rest by native/src/jni/jni_conv2d.cpp --------

    private static native void kiln_conv2d_forward_f32(long ctx, Conv2dDesc desc, long x, long w, long bias, long y);
    private static native void kiln_conv2d_backward_data_f32(long ctx, Conv2dDesc desc, long dy, long w, long dx);
    private static native void kiln_conv2d_backward_weight_f32(long ctx, Conv2dDesc desc, long x, long dy, long dw,
                                                               long dbias);
    private static native long workspaceSize0(Conv2dDesc d);
}

package dev.kiln.internal;

import dev.kiln.Tensor;

import java.util.Objects;

/**
 * Binding of 2-D max and average pooling (natives bound to kiln.h by NativeLibrary.bindAbi): x (n, c, h, w) to y (n, c,
 * p, q) as {@link Pool2dDesc} gives them; max pooling's int32 index (n, c, p, q) holds each output's source position.
 * Not public API.
 */
public final class PoolNative {
    private PoolNative() {
    }

    static {
        NativeLibrary.bindAbi(PoolNative.class);
    }

    public static void maxPool2d(Pool2dDesc d, Tensor x, Tensor y, Tensor index) {
        Call c = new Call("max_pool2d");
        long xa = c.f32("x", x, desc(d).inputElements()), ya = c.f32("y", y, d.outputElements());
        long ia = c.i32("index", index, d.outputElements());
        kiln_max_pool2d_f32(c.context(), d, xa, ya, ia);
        c.fence();
    }

    public static void maxPool2dBackward(Pool2dDesc d, Tensor dy, Tensor index, Tensor dx) {
        Call c = new Call("max_pool2d backward");
        long dya = c.f32("dy", dy, desc(d).outputElements()), ia = c.i32("index", index, d.outputElements());
        long dxa = c.f32("dx", dx, d.inputElements());
        kiln_max_pool2d_backward_f32(c.context(), d, dya, ia, dxa);
        c.fence();
    }

    public static void avgPool2d(Pool2dDesc d, Tensor x, Tensor y, boolean countIncludePad) {
        Call c = new Call("avg_pool2d");
        long xa = c.f32("x", x, desc(d).inputElements()), ya = c.f32("y", y, d.outputElements());
        kiln_avg_pool2d_f32(c.context(), d, xa, ya, countIncludePad ? 1 : 0);
        c.fence();
    }

    public static void avgPool2dBackward(Pool2dDesc d, Tensor dy, Tensor dx, boolean countIncludePad) {
        Call c = new Call("avg_pool2d backward");
        long dya = c.f32("dy", dy, desc(d).outputElements()), dxa = c.f32("dx", dx, d.inputElements());
        kiln_avg_pool2d_backward_f32(c.context(), d, dya, dxa, countIncludePad ? 1 : 0);
        c.fence();
    }

    private static Pool2dDesc desc(Pool2dDesc d) {
        return Objects.requireNonNull(d, "pool2d: descriptor is null");
    }

    // ---- natives: C ABI entries of kiln.h, bound by NativeLibrary.bindAbi (native/src/jni/jni_abi.cpp) --------------

    private static native void kiln_max_pool2d_f32(long ctx, Pool2dDesc desc, long x, long y, long index);
    private static native void kiln_max_pool2d_backward_f32(long ctx, Pool2dDesc desc, long dy, long index, long dx);
    private static native void kiln_avg_pool2d_f32(long ctx, Pool2dDesc desc, long x, long y, int countIncludePad);
    private static native void kiln_avg_pool2d_backward_f32(long ctx, Pool2dDesc desc, long dy, long dx,
                                                            int countIncludePad);
}

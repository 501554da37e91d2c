package dev.kiln.internal;

import dev.kiln.Tensor;

import java.util.Objects;

/**
 * Binding of 2-D max and average pooling (native/src/jni/jni_pool.cpp): x (n, c, h, w) to y (n, c, p, q) as
 * {@link Pool2dDesc} gives them; max pooling's int32 index (n, c, p, q) holds each output's source position.
 * Not public API.
 */
public final class PoolNative {
    private PoolNative() {
    }

    public static void maxPool2d(Pool2dDesc d, Tensor x, Tensor y, Tensor index) {
        Call c = new Call("max_pool2d");
        long xa = c.f32("x", x, desc(d).inputElements()), ya = c.f32("y", y, d.outputElements());
        long ia = c.i32("index", index, d.outputElements());
        maxPool2d0(c.context(), d, xa, ya, ia);
        c.fence();
    }

    public static void maxPool2dBackward(Pool2dDesc d, Tensor dy, Tensor index, Tensor dx) {
        Call c = new Call("max_pool2d backward");
        long dya = c.f32("dy", dy, desc(d).outputElements()), ia = c.i32("index", index, d.outputElements());
        long dxa = c.f32("dx", dx, d.inputElements());
        maxPool2dBackward0(c.context(), d, dya, ia, dxa);
        c.fence();
    }

    public static void avgPool2d(Pool2dDesc d, Tensor x, Tensor y, boolean countIncludePad) {
        Call c = new Call("avg_pool2d");
        long xa = c.f32("x", x, desc(d).inputElements()), ya = c.f32("y", y, d.outputElements());
        avgPool2d0(c.context(), d, xa, ya, countIncludePad);
        c.fence();
    }

    public static void avgPool2dBackward(Pool2dDesc d, Tensor dy, Tensor dx, boolean countIncludePad) {
        Call c = new Call("avg_pool2d backward");
        long dya = c.f32("dy", dy, desc(d).outputElements()), dxa = c.f32("dx", dx, d.inputElements());
        avgPool2dBackward0(c.context(), d, dya, dxa, countIncludePad);
        c.fence();
    }

    private static Pool2dDesc desc(Pool2dDesc d) {
        return Objects.requireNonNull(d, "pool2d: descriptor is null");
    }

    // ---- natives (registered by JNI_OnLoad from native/src/jni/jni_pool.cpp) ------------------------------------

    private static native void maxPool2d0(long ctx, Pool2dDesc d, long x, long y, long index);
    private static native void maxPool2dBackward0(long ctx, Pool2dDesc d, long dy, long index, long dx);
    private static native void avgPool2d0(long ctx, Pool2dDesc d, long x, long y, boolean countIncludePad);
    private static native void avgPool2dBackward0(long ctx, Pool2dDesc d, long dy, long dx, boolean countIncludePad);
}

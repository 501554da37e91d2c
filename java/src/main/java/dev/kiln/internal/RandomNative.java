package dev.kiln.internal;

import dev.kiln.Tensor;

/**
 * Binding of fill and the Philox draws (native/src/jni/jni_random.cpp). Each writes every element of its f32 tensor.
 * A draw of n values uses Philox counters [offset, offset + ceil(n/4)) of stream {@code seed}. Not public API.
 */
public final class RandomNative {
    private RandomNative() {
    }

    public static void fill(Tensor y, float value) {
        Call c = new Call("fill");
        long ya = c.f32Whole("y", y);
        fill0(c.context(), ya, y.numel(), value);
        c.fence();
    }

    public static void uniform(Tensor y, long seed, long offset, float lo, float hi) {
        Call c = new Call("rand_uniform");
        long ya = c.f32Whole("y", y);
        uniform0(c.context(), ya, y.numel(), seed, offset, lo, hi);
        c.fence();
    }

    public static void normal(Tensor y, long seed, long offset, float mean, float std) {
        Call c = new Call("rand_normal");
        long ya = c.f32Whole("y", y);
        normal0(c.context(), ya, y.numel(), seed, offset, mean, std);
        c.fence();
    }

    // ---- natives (registered by JNI_OnLoad from native/src/jni/jni_random.cpp) ----------------------------------

    private static native void fill0(long ctx, long y, long n, float value);
    private static native void uniform0(long ctx, long y, long n, long seed, long offset, float lo, float hi);
    private static native void normal0(long ctx, long y, long n, long seed, long offset, float mean, float std);
}

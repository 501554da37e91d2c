package dev.kiln.internal;

import dev.kiln.Tensor;

/**
 * Binding of fill and the Philox draws (natives bound to kiln.h by NativeLibrary.bindAbi). Each writes every element of
 * its f32 tensor. A draw of n values uses Philox counters [offset, offset + ceil(n/4)) of stream {@code seed}. Not
 * public API.
 */
public final class RandomNative {
    private RandomNative() {
    }

    static {
        NativeLibrary.bindAbi(RandomNative.class);
    }

    public static void fill(Tensor y, float value) {
        Call c = new Call("fill");
        long ya = c.f32Whole("y", y);
        kiln_fill_f32(c.context(), ya, y.numel(), value);
        c.fence();
    }

    public static void uniform(Tensor y, long seed, long offset, float lo, float hi) {
        Call c = new Call("rand_uniform");
        long ya = c.f32Whole("y", y);
        kiln_rand_uniform_f32(c.context(), ya, y.numel(), seed, offset, lo, hi);
        c.fence();
    }

    public static void normal(Tensor y, long seed, long offset, float mean, float std) {
        Call c = new Call("rand_normal");
        long ya = c.f32Whole("y", y);
        kiln_rand_normal_f32(c.context(), ya, y.numel(), seed, offset, mean, std);
        c.fence();
    }

    // ---- natives: C ABI entries of kiln.h, bound by NativeLibrary.bindAbi (native/src/jni/jni_abi.cpp) --------------

    private static native void kiln_fill_f32(long ctx, long y, long n, float value);
    private static native void kiln_rand_uniform_f32(long ctx, long y, long n, long seed, long offset, float lo,
                                                     float hi);
    private static native void kiln_rand_normal_f32(long ctx, long y, long n, long seed, long offset, float mean,
                                                    float std);
}

package dev.kiln.internal;

import dev.kiln.Tensor;

/**
 * Binding of the embedding family (natives bound to kiln.h by NativeLibrary.bindAbi): lookup of rows of a (vocab, dim)
 * table by int32 indices, its deterministic backward, and sinusoidal positional encodings. Not public API.
 */
public final class EmbeddingNative {
    private EmbeddingNative() {
    }

    static {
        NativeLibrary.bindAbi(EmbeddingNative.class);
    }

    /** y (n, dim) = weight[indices[i]], a NaN row for an index outside [0, vocab). */
    public static void forward(Tensor indices, Tensor weight, Tensor y, long n, long vocab, long dim) {
        Call c = new Call("embedding");
        long ia = c.i32("indices", indices, n), wa = c.f32("weight", weight, Sizes.product(vocab, dim));
        long ya = c.f32("y", y, Sizes.product(n, dim));
        kiln_embedding_f32(c.context(), ia, wa, ya, n, vocab, dim);
        c.fence();
    }

    /** dweight (vocab, dim) assigned: the dy rows of each index summed in increasing position; others ignored. */
    public static void backward(Tensor indices, Tensor dy, Tensor dweight, long n, long vocab, long dim) {
        Call c = new Call("embedding backward");
        long ia = c.i32("indices", indices, n), dya = c.f32("dy", dy, Sizes.product(n, dim));
        long dwa = c.f32("dweight", dweight, Sizes.product(vocab, dim));
        kiln_embedding_backward_f32(c.context(), ia, dya, dwa, n, vocab, dim);
        c.fence();
    }

    /** y (len, dim) = the sinusoidal encodings of positions start .. start + len - 1. */
    public static void sinusoidalPositions(Tensor y, long len, long dim, long start) {
        Call c = new Call("sinusoidal_positions");
        long ya = c.f32("y", y, Sizes.product(len, dim));
        kiln_sinusoidal_positions_f32(c.context(), ya, len, dim, start);
        c.fence();
    }

    // ---- natives: C ABI entries of kiln.h, bound by NativeLibrary.bindAbi (native/src/jni/jni_abi.cpp) --------------

    private static native void kiln_embedding_f32(long ctx, long indices, long weight, long y, long n, long vocab,
                                                  long dim);
    private static native void kiln_embedding_backward_f32(long ctx, long indices, long dy, long dweight, long n,
                                                           long vocab, long dim);
    private static native void kiln_sinusoidal_positions_f32(long ctx, long y, long len, long dim, long start);
}

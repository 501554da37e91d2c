package dev.kiln.internal;

import dev.kiln.Tensor;

/**
 * Binding of the reductions and softmax (natives bound to kiln.h by NativeLibrary.bindAbi): sums over an axis, max over
 * the last dimension, sums of squares, (log-)softmax over rows. Not public API.
 */
public final class ReduceNative {
    private ReduceNative() {
    }

    static {
        NativeLibrary.bindAbi(ReduceNative.class);
    }

    /** y (outer, inner) = scale * sum over len of x (outer, len, inner). */
    public static void sum(Tensor x, Tensor y, long outer, long len, long inner, float scale) {
        Call c = new Call("reduce_sum");
        long xa = c.f32("x", x, Sizes.product(outer, len, inner)), ya = c.f32("y", y, Sizes.product(outer, inner));
        kiln_reduce_sum_f32(c.context(), xa, ya, outer, len, inner, scale);
        c.fence();
    }

    /** dx (outer, len, inner) = scale * dy (outer, inner) broadcast over len. */
    public static void sumBackward(Tensor dy, Tensor dx, long outer, long len, long inner, float scale) {
        Call c = new Call("reduce_sum backward");
        long dya = c.f32("dy", dy, Sizes.product(outer, inner)), dxa = c.f32("dx", dx, Sizes.product(outer, len, inner));
        kiln_reduce_sum_backward_f32(c.context(), dya, dxa, outer, len, inner, scale);
        c.fence();
    }

    /** y (rows) and int32 index (rows) of the max of each row of x (rows, cols). */
    public static void maxLastDim(Tensor x, Tensor y, Tensor index, long rows, long cols) {
        Call c = new Call("max");
        long xa = c.f32("x", x, Sizes.product(rows, cols)), ya = c.f32("y", y, rows), ia = c.i32("index", index, rows);
        kiln_max_lastdim_f32(c.context(), xa, ya, ia, rows, cols);
        c.fence();
    }

    /** dx (rows, cols) = dy (rows) at each row's index, 0 elsewhere. */
    public static void maxLastDimBackward(Tensor dy, Tensor index, Tensor dx, long rows, long cols) {
        Call c = new Call("max backward");
        long dya = c.f32("dy", dy, rows), ia = c.i32("index", index, rows), dxa = c.f32("dx", dx, Sizes.product(rows, cols));
        kiln_max_lastdim_backward_f32(c.context(), dya, ia, dxa, rows, cols);
        c.fence();
    }

    /** out[slot] = sum of the squares of all of x (so one read fetches the sums of many tensors). */
    public static void sumSquares(Tensor x, Tensor out, long slot) {
        Call c = new Call("sum_squares");
        long n = x == null ? 0 : x.numel(), xa = c.f32("x", x, n);
        if (slot < 0) throw new IllegalArgumentException("sum_squares: slot must be >= 0, got " + slot);
        long outa = c.f32("out", out, slot + 1) + slot * Float.BYTES;
        kiln_sum_squares_f32(c.context(), xa, n, outa);
        c.fence();
    }

    /** y = softmax (log_softmax when log) of each row of x (rows, cols). */
    public static void softmax(Tensor x, Tensor y, long rows, long cols, boolean log) {
        Call c = new Call(log ? "log_softmax" : "softmax");
        long n = Sizes.product(rows, cols), xa = c.f32("x", x, n), ya = c.f32("y", y, n);
        kiln_softmax_f32(c.context(), xa, ya, rows, cols, log ? 1 : 0);
        c.fence();
    }

    /** dx from the forward output y and dy, all (rows, cols). */
    public static void softmaxBackward(Tensor y, Tensor dy, Tensor dx, long rows, long cols, boolean log) {
        Call c = new Call(log ? "log_softmax backward" : "softmax backward");
        long n = Sizes.product(rows, cols), ya = c.f32("y", y, n), dya = c.f32("dy", dy, n), dxa = c.f32("dx", dx, n);
        kiln_softmax_backward_f32(c.context(), ya, dya, dxa, rows, cols, log ? 1 : 0);
        c.fence();
    }

    // ---- natives: C ABI entries of kiln.h, bound by NativeLibrary.bindAbi (native/src/jni/jni_abi.cpp) --------------

    private static native void kiln_reduce_sum_f32(long ctx, long x, long y, long outer, long len, long inner,
                                                   float scale);
    private static native void kiln_reduce_sum_backward_f32(long ctx, long dy, long dx, long outer, long len,
                                                            long inner, float scale);
    private static native void kiln_max_lastdim_f32(long ctx, long x, long y, long index, long rows, long cols);
    private static native void kiln_max_lastdim_backward_f32(long ctx, long dy, long index, long dx, long rows,
                                                             long cols);
    private static native void kiln_sum_squares_f32(long ctx, long x, long n, long out);
    private static native void kiln_softmax_f32(long ctx, long x, long y, long rows, long cols, int log);
    private static native void kiln_softmax_backward_f32(long ctx, long y, long dy, long dx, long rows, long cols,
                                                         int log);
}

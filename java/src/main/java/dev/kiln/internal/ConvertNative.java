package dev.kiln.internal;

import dev.kiln.Tensor;

/**
 * Binding of the bf16 conversion family (native/src/jni/jni_convert.cpp): fp32 to bf16 (round to nearest even, NaN
 * kept quiet) and back (exact), over slices of two tensors on one device; and the raw bf16 bits of a tensor slice to
 * and from a Java {@code short[]}, which checkpoints use to move bf16 data without rounding it. Not public API.
 */
public final class ConvertNative {
    private ConvertNative() {
    }

    static {
        NativeLibrary.bindAbi(ConvertNative.class);
    }

    /** y[yOffset, yOffset + n) = bf16(x[xOffset, xOffset + n)); x is f32, y bf16, both on one device. */
    public static void toBf16(Tensor x, long xOffset, Tensor y, long yOffset, long n) {
        Call c = new Call("to_bf16");
        long xa = c.f32("x", x, sliceEnd("to_bf16", "x", xOffset, n));
        long ya = c.bf16("y", y, sliceEnd("to_bf16", "y", yOffset, n));
        kiln_convert_f32_to_bf16(c.context(), xa + xOffset * Float.BYTES, ya + yOffset * Short.BYTES, n);
        c.fence();
    }

    /** y[yOffset, yOffset + n) = f32(x[xOffset, xOffset + n)); x is bf16, y f32, both on one device. */
    public static void toF32(Tensor x, long xOffset, Tensor y, long yOffset, long n) {
        Call c = new Call("to_f32");
        long xa = c.bf16("x", x, sliceEnd("to_f32", "x", xOffset, n));
        long ya = c.f32("y", y, sliceEnd("to_f32", "y", yOffset, n));
        kiln_convert_bf16_to_f32(c.context(), xa + xOffset * Short.BYTES, ya + yOffset * Float.BYTES, n);
        c.fence();
    }

    /** All of x (f32) into the first x.numel() elements of y (bf16). */
    public static void toBf16(Tensor x, Tensor y) {
        toBf16(x, 0, y, 0, x == null ? 0 : x.numel());
    }

    /** All of x (bf16) into the first x.numel() elements of y (f32). */
    public static void toF32(Tensor x, Tensor y) {
        toF32(x, 0, y, 0, x == null ? 0 : x.numel());
    }

    /** dst[dstOffset, dstOffset + count) = the bf16 bit patterns src[srcOffset, srcOffset + count), unchanged. */
    public static void copyFromShortArray(Tensor dst, long dstOffset, short[] src, int srcOffset, int count) {
        checkRange("copyFromShortArray", src == null ? -1 : src.length, srcOffset, count);
        Call c = new Call("copyFromShortArray");
        long d = c.bf16("dst", dst, sliceEnd("copyFromShortArray", "dst", dstOffset, count));
        copyFromShortArray0(c.context(), d + dstOffset * Short.BYTES, src, srcOffset, count);
        c.fence();
    }

    /** dst[dstOffset, dstOffset + count) = the bf16 bit patterns of src[srcOffset, srcOffset + count). */
    public static void copyToShortArray(Tensor src, long srcOffset, short[] dst, int dstOffset, int count) {
        checkRange("copyToShortArray", dst == null ? -1 : dst.length, dstOffset, count);
        Call c = new Call("copyToShortArray");
        long s = c.bf16("src", src, sliceEnd("copyToShortArray", "src", srcOffset, count));
        copyToShortArray0(c.context(), s + srcOffset * Short.BYTES, dst, dstOffset, count);
        c.fence();
    }

    /** End of the slice [offset, offset + n); Call then checks that the tensor holds that many elements. */
    private static long sliceEnd(String op, String arg, long offset, long n) {
        if (n < 0) throw new IllegalArgumentException(op + ": element count must be >= 0, got " + n);
        if (offset < 0 || offset > Long.MAX_VALUE - n) {
            throw new IllegalArgumentException(op + ": offset " + offset + " into '" + arg + "' is out of range");
        }
        return offset + n;
    }

    /** {@code length} -1 stands for a null array. */
    private static void checkRange(String op, int length, int offset, int count) {
        if (length < 0) throw new IllegalArgumentException(op + ": array is null");
        if (offset < 0 || count < 0 || offset > length - count) {
            throw new IllegalArgumentException(op + ": range [" + offset + ", " + offset + " + " + count
                    + ") is outside an array of length " + length);
        }
    }

    // ---- natives: kiln_* bound to kiln.h by NativeLibrary.bindAbi; the rest by native/src/jni/jni_convert.cpp -------

    private static native void kiln_convert_f32_to_bf16(long ctx, long x, long y, long n);
    private static native void kiln_convert_bf16_to_f32(long ctx, long x, long y, long n);
    private static native void copyFromShortArray0(long ctx, long dst, short[] src, int offset, int count);
    private static native void copyToShortArray0(long ctx, long src, short[] dst, int offset, int count);
}

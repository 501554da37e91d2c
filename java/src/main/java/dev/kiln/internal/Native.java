package dev.kiln.internal;

import dev.kiln.DeviceInfo;
import dev.kiln.KilnNativeLoadException;

/**
 * The JNI binding: one private static native per C ABI entry point (registered by JNI_OnLoad), each behind a
 * public wrapper that checks its arguments, so that nothing invalid ever crosses into native code. Native failures
 * arrive as exceptions thrown by the glue: {@link IllegalArgumentException} for bad input, {@code KilnException}
 * and its subclasses for the rest. Not public API: use {@code dev.kiln}.
 */
public final class Native {
    /** Device kinds as the C ABI numbers them. */
    public static final int DEVICE_CPU = 0;
    public static final int DEVICE_CUDA = 1;

    private static final KilnNativeLoadException LOAD_FAILURE = NativeLoader.tryLoad();

    private Native() {
    }

    /** Throws the load failure, if loading failed; every entry that does not take a context handle calls it. */
    public static void ensureLoaded() {
        if (LOAD_FAILURE != null) throw new KilnNativeLoadException(LOAD_FAILURE.getMessage(), LOAD_FAILURE);
    }

    // ---- library ----------------------------------------------------------------------------------------------

    public static String buildInfo() {
        ensureLoaded();
        return buildInfo0();
    }

    public static int abiVersion() {
        ensureLoaded();
        return abiVersion0();
    }

    /** Crosses into the library and back doing nothing: the floor of every native call's cost. */
    public static void noop() {
        noop0();
    }

    // ---- devices ----------------------------------------------------------------------------------------------

    /** Number of CUDA devices; {@code reasonOut[0]} receives why there are none (or ""). */
    public static int cudaDeviceCount(String[] reasonOut) {
        ensureLoaded();
        if (reasonOut != null && reasonOut.length < 1) throw new IllegalArgumentException("cudaDeviceCount: reasonOut must have length >= 1");
        return cudaDeviceCount0(reasonOut);
    }

    public static DeviceInfo deviceProperties(int kind, int index) {
        ensureLoaded();
        checkKind("deviceProperties", kind);
        return deviceProperties0(kind, index);
    }

    // ---- contexts ---------------------------------------------------------------------------------------------

    public static long contextCreate(int kind, int index) {
        ensureLoaded();
        checkKind("contextCreate", kind);
        return contextCreate0(kind, index);
    }

    public static void contextDestroy(long ctx) {
        checkContext("contextDestroy", ctx);
        contextDestroy0(ctx);
    }

    public static void synchronize(long ctx) {
        checkContext("synchronize", ctx);
        synchronize0(ctx);
    }

    // ---- memory -----------------------------------------------------------------------------------------------

    public static long alloc(long ctx, long bytes) {
        checkContext("alloc", ctx);
        if (bytes < 0) throw new IllegalArgumentException("alloc: bytes must be >= 0, got " + bytes);
        return alloc0(ctx, bytes);
    }

    public static void free(long ctx, long ptr) {
        checkContext("free", ctx);
        free0(ctx, ptr);
    }

    /** Allocator counters in {@link dev.kiln.MemoryStats} order. */
    public static long[] memoryStats(long ctx) {
        checkContext("memoryStats", ctx);
        long[] out = new long[7];
        memoryStats0(ctx, out);
        return out;
    }

    public static void emptyCache(long ctx) {
        checkContext("emptyCache", ctx);
        emptyCache0(ctx);
    }

    // ---- copies -----------------------------------------------------------------------------------------------

    /** Copies {@code src[offset, offset+count)} into the device buffer at {@code dst}. */
    public static void copyFromArray(long ctx, long dst, float[] src, int offset, int count) {
        checkContext("copyFromArray", ctx);
        checkArrayRange("copyFromArray", src, offset, count);
        checkData("copyFromArray", "dst", dst, count);
        copyFromArray0(ctx, dst, src, offset, count);
    }

    /** Copies {@code count} floats from the device buffer at {@code src} into {@code dst[offset, offset+count)}. */
    public static void copyToArray(long ctx, long src, float[] dst, int offset, int count) {
        checkContext("copyToArray", ctx);
        checkArrayRange("copyToArray", dst, offset, count);
        checkData("copyToArray", "src", src, count);
        copyToArray0(ctx, src, dst, offset, count);
    }

    public static void copyToDevice(long ctx, long dst, long hostSrc, long bytes) {
        checkCopy("copyToDevice", ctx, dst, hostSrc, bytes);
        copyToDevice0(ctx, dst, hostSrc, bytes);
    }

    public static void copyToHost(long ctx, long hostDst, long src, long bytes) {
        checkCopy("copyToHost", ctx, hostDst, src, bytes);
        copyToHost0(ctx, hostDst, src, bytes);
    }

    public static void copyDevice(long ctx, long dst, long src, long bytes) {
        checkCopy("copyDevice", ctx, dst, src, bytes);
        copyDevice0(ctx, dst, src, bytes);
    }

    // ---- fill and random --------------------------------------------------------------------------------------

    public static void fill(long ctx, long y, long n, float value) {
        checkContext("fill", ctx);
        checkData("fill", "y", y, n);
        fill0(ctx, y, n, value);
    }

    public static void randUniform(long ctx, long y, long n, long seed, long offset, float lo, float hi) {
        checkContext("randUniform", ctx);
        checkData("randUniform", "y", y, n);
        randUniform0(ctx, y, n, seed, offset, lo, hi);
    }

    public static void randNormal(long ctx, long y, long n, long seed, long offset, float mean, float std) {
        checkContext("randNormal", ctx);
        checkData("randNormal", "y", y, n);
        randNormal0(ctx, y, n, seed, offset, mean, std);
    }

    // ---- argument checks --------------------------------------------------------------------------------------

    private static void checkKind(String op, int kind) {
        if (kind != DEVICE_CPU && kind != DEVICE_CUDA) throw new IllegalArgumentException(op + ": unknown device kind " + kind);
    }

    private static void checkContext(String op, long ctx) {
        if (ctx == 0) throw new IllegalArgumentException(op + ": context handle is null");
    }

    private static void checkData(String op, String arg, long ptr, long count) {
        if (count < 0) throw new IllegalArgumentException(op + ": element count of '" + arg + "' must be >= 0, got " + count);
        if (ptr == 0 && count > 0) throw new IllegalArgumentException(op + ": '" + arg + "' is a null address");
    }

    private static void checkArrayRange(String op, float[] array, int offset, int count) {
        if (array == null) throw new IllegalArgumentException(op + ": array is null");
        if (offset < 0 || count < 0 || offset > array.length - count) {
            throw new IllegalArgumentException(op + ": range [" + offset + ", " + offset + " + " + count
                    + ") is outside an array of length " + array.length);
        }
    }

    private static void checkCopy(String op, long ctx, long dst, long src, long bytes) {
        checkContext(op, ctx);
        checkData(op, "dst", dst, bytes);
        checkData(op, "src", src, bytes);
    }

    // ---- natives (registered by JNI_OnLoad in native/src/jni) -------------------------------------------------

    private static native String buildInfo0();
    private static native int abiVersion0();
    private static native void noop0();
    private static native int cudaDeviceCount0(String[] reasonOut);
    private static native DeviceInfo deviceProperties0(int kind, int index);
    private static native long contextCreate0(int kind, int index);
    private static native void contextDestroy0(long ctx);
    private static native void synchronize0(long ctx);
    private static native long alloc0(long ctx, long bytes);
    private static native void free0(long ctx, long ptr);
    private static native void memoryStats0(long ctx, long[] out);
    private static native void emptyCache0(long ctx);
    private static native void copyFromArray0(long ctx, long dst, float[] src, int offset, int count);
    private static native void copyToArray0(long ctx, long src, float[] dst, int offset, int count);
    private static native void copyToDevice0(long ctx, long dst, long hostSrc, long bytes);
    private static native void copyToHost0(long ctx, long hostDst, long src, long bytes);
    private static native void copyDevice0(long ctx, long dst, long src, long bytes);
    private static native void fill0(long ctx, long y, long n, float value);
    private static native void randUniform0(long ctx, long y, long n, long seed, long offset, float lo, float hi);
    private static native void randNormal0(long ctx, long y, long n, long seed, long offset, float mean, float std);
}

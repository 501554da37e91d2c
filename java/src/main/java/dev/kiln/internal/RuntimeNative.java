package dev.kiln.internal;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.DeviceInfo;
import dev.kiln.Tensor;

/**
 * Binding of the runtime entries (native/src/jni/jni_runtime.cpp): library info, devices, contexts, memory and
 * copies. Raw handles appear only where the core classes own them (contexts, Storage's allocation); copies take
 * tensors. Not public API.
 */
public final class RuntimeNative {
    /** Device kinds as the C ABI numbers them. */
    private static final int DEVICE_CPU = 0;
    private static final int DEVICE_CUDA = 1;

    private RuntimeNative() {
    }

    // ---- library and devices ------------------------------------------------------------------------------------

    public static String buildInfo() {
        NativeLibrary.ensureLoaded();
        return buildInfo0();
    }

    public static int abiVersion() {
        NativeLibrary.ensureLoaded();
        return abiVersion0();
    }

    /** Crosses into the library and back doing nothing: the floor of every native call's cost. */
    public static void noop() {
        noop0();
    }

    /** Number of CUDA devices; {@code reasonOut[0]}, when given, receives why there are none (or ""). */
    public static int cudaDeviceCount(String[] reasonOut) {
        NativeLibrary.ensureLoaded();
        if (reasonOut != null && reasonOut.length < 1) {
            throw new IllegalArgumentException("cudaDeviceCount: reasonOut must have length >= 1");
        }
        return cudaDeviceCount0(reasonOut);
    }

    public static DeviceInfo deviceProperties(Device device) {
        NativeLibrary.ensureLoaded();
        return deviceProperties0(kind(device), device.index());
    }

    static long contextCreate(Device device) {
        NativeLibrary.ensureLoaded();
        return contextCreate0(kind(device), device.index());
    }

    public static void synchronize(Device device) {
        synchronize0(Contexts.of(device));
    }

    // ---- memory -------------------------------------------------------------------------------------------------

    /** {@code bytes} of device memory from the context's caching allocator; for Storage, which owns the result. */
    public static long alloc(long context, long bytes) {
        checkContext("alloc", context);
        if (bytes < 0) throw new IllegalArgumentException("alloc: bytes must be >= 0, got " + bytes);
        return alloc0(context, bytes);
    }

    public static void free(long context, long address) {
        checkContext("free", context);
        free0(context, address);
    }

    /** Allocator counters in {@link dev.kiln.MemoryStats} order. */
    public static long[] memoryStats(Device device) {
        long[] out = new long[7];
        memoryStats0(Contexts.of(device), out);
        return out;
    }

    public static void emptyCache(Device device) {
        emptyCache0(Contexts.of(device));
    }

    /** Caps the bytes the device's allocator holds (0: no cap); see {@link Device#setMemoryLimit(long)}. */
    public static void setMemoryLimit(Device device, long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("setMemoryLimit: bytes must be >= 0 (0 = no limit), got " + bytes);
        setMemoryLimit0(Contexts.of(device), bytes);
    }

    // ---- copies -------------------------------------------------------------------------------------------------

    /** dst[0, count) = src[offset, offset + count); dst is f32. The slice forms below with a tensor offset of 0. */
    public static void copyFromArray(Tensor dst, float[] src, int offset, int count) {
        copyFromArray(dst, 0, src, offset, count);
    }

    /** dst[offset, offset + count) = src[0, count); src is f32. */
    public static void copyToArray(Tensor src, float[] dst, int offset, int count) {
        copyToArray(src, 0, dst, offset, count);
    }

    public static void copyFromIntArray(Tensor dst, int[] src, int offset, int count) {
        copyFromIntArray(dst, 0, src, offset, count);
    }

    public static void copyToIntArray(Tensor src, int[] dst, int offset, int count) {
        copyToIntArray(src, 0, dst, offset, count);
    }

    /** dst[dstOffset, dstOffset + count) = src[srcOffset, srcOffset + count): a slice of a large f32 tensor. */
    public static void copyFromArray(Tensor dst, long dstOffset, float[] src, int srcOffset, int count) {
        checkRange("copyFromArray", src == null ? -1 : src.length, srcOffset, count);
        Call c = new Call("copyFromArray");
        long d = c.f32("dst", dst, sliceEnd("copyFromArray", dstOffset, count));
        copyFromArray0(c.context(), d + dstOffset * Float.BYTES, src, srcOffset, count);
        c.fence();
    }

    /** dst[dstOffset, dstOffset + count) = src[srcOffset, srcOffset + count) of an f32 tensor. */
    public static void copyToArray(Tensor src, long srcOffset, float[] dst, int dstOffset, int count) {
        checkRange("copyToArray", dst == null ? -1 : dst.length, dstOffset, count);
        Call c = new Call("copyToArray");
        long s = c.f32("src", src, sliceEnd("copyToArray", srcOffset, count));
        copyToArray0(c.context(), s + srcOffset * Float.BYTES, dst, dstOffset, count);
        c.fence();
    }

    /** The i32 twin of {@link #copyFromArray(Tensor, long, float[], int, int)}. */
    public static void copyFromIntArray(Tensor dst, long dstOffset, int[] src, int srcOffset, int count) {
        checkRange("copyFromIntArray", src == null ? -1 : src.length, srcOffset, count);
        Call c = new Call("copyFromIntArray");
        long d = c.i32("dst", dst, sliceEnd("copyFromIntArray", dstOffset, count));
        copyFromIntArray0(c.context(), d + dstOffset * Integer.BYTES, src, srcOffset, count);
        c.fence();
    }

    /** The i32 twin of {@link #copyToArray(Tensor, long, float[], int, int)}. */
    public static void copyToIntArray(Tensor src, long srcOffset, int[] dst, int dstOffset, int count) {
        checkRange("copyToIntArray", dst == null ? -1 : dst.length, dstOffset, count);
        Call c = new Call("copyToIntArray");
        long s = c.i32("src", src, sliceEnd("copyToIntArray", srcOffset, count));
        copyToIntArray0(c.context(), s + srcOffset * Integer.BYTES, dst, dstOffset, count);
        c.fence();
    }

    /** End of the tensor slice [offset, offset + count); Call then checks the tensor holds that many elements. */
    private static long sliceEnd(String op, long offset, int count) {
        if (offset < 0 || offset > Long.MAX_VALUE - count) {
            throw new IllegalArgumentException(op + ": tensor offset " + offset + " is out of range");
        }
        return offset + count;
    }

    /**
     * Copies all of {@code src} into the first elements of {@code dst} (same dtype): on one device, from the CPU to a
     * GPU, or from a GPU to the CPU, queued on the GPU's context. Two different GPUs: copy through the CPU.
     */
    public static void copy(Tensor dst, Tensor src) {
        if (dst == null || src == null) throw new IllegalArgumentException("copy: " + (dst == null ? "dst" : "src") + " is null");
        DType dtype = src.dtype();
        long n = src.numel(), bytes = n * dtype.bytes();
        Device from = src.device(), to = dst.device();
        Call c = new Call(from.equals(to) ? "copy" : from.isCpu() ? "copy to device" : "copy to host");
        if (from.equals(to)) {
            long d = c.arg("dst", dst, dtype, n), s = c.arg("src", src, dtype, n);
            copyDevice0(c.context(), d, s, bytes);
        } else if (from.isCpu()) {
            long d = c.arg("dst", dst, dtype, n), s = c.host("src", src, dtype, n);
            copyToDevice0(c.context(), d, s, bytes);
        } else if (to.isCpu()) {
            long s = c.arg("src", src, dtype, n), d = c.host("dst", dst, dtype, n);
            copyToHost0(c.context(), d, s, bytes);
        } else {
            throw new IllegalArgumentException("copy: from " + from + " to " + to + " needs a stop on the cpu");
        }
        c.fence();
    }

    /**
     * A 2-D copy between two tensors of one dtype on one device, in elements: {@code rows} runs of {@code width}
     * elements, run r from src[srcOffset + r srcPitch] to dst[dstOffset + r dstPitch]. Slices, concatenation and
     * key/value cache writes are this copy; the two regions must not overlap (distinct tensors never do).
     */
    public static void copy2d(Tensor dst, long dstOffset, long dstPitch, Tensor src, long srcOffset, long srcPitch,
                              long width, long rows) {
        Call c = new Call("copy2d");
        if (dst == null || src == null) throw new IllegalArgumentException("copy2d: dst and src must not be null");
        DType dtype = dst.dtype();
        if (dstOffset < 0 || srcOffset < 0 || dstPitch < 0 || srcPitch < 0 || width < 0 || rows < 0) {
            throw new IllegalArgumentException("copy2d: offsets, pitches and sizes must be >= 0");
        }
        long d = c.arg("dst", dst, dtype, span(dstOffset, dstPitch, width, rows));
        long s = c.arg("src", src, dtype, span(srcOffset, srcPitch, width, rows));
        long e = dtype.bytes();
        copyDevice2d0(c.context(), d + dstOffset * e, dstPitch * e, s + srcOffset * e, srcPitch * e, width * e, rows);
        c.fence();
    }

    /** Elements from the tensor's start through the last one a 2-D copy touches. */
    private static long span(long offset, long pitch, long width, long rows) {
        if (width == 0 || rows == 0) return 0;
        return Math.addExact(offset, Math.addExact(Math.multiplyExact(rows - 1, pitch), width));
    }

    // ---- checks -------------------------------------------------------------------------------------------------

    private static int kind(Device device) {
        return device.isCuda() ? DEVICE_CUDA : DEVICE_CPU;
    }

    private static void checkContext(String op, long context) {
        if (context == 0) throw new IllegalArgumentException(op + ": context handle is null");
    }

    /** {@code length} -1 stands for a null array. */
    private static void checkRange(String op, int length, int offset, int count) {
        if (length < 0) throw new IllegalArgumentException(op + ": array is null");
        if (offset < 0 || count < 0 || offset > length - count) {
            throw new IllegalArgumentException(op + ": range [" + offset + ", " + offset + " + " + count
                    + ") is outside an array of length " + length);
        }
    }

    // ---- natives (registered by JNI_OnLoad from native/src/jni/jni_runtime.cpp) ---------------------------------

    private static native String buildInfo0();
    private static native int abiVersion0();
    private static native void noop0();
    private static native int cudaDeviceCount0(String[] reasonOut);
    private static native DeviceInfo deviceProperties0(int kind, int index);
    private static native long contextCreate0(int kind, int index);
    private static native void synchronize0(long ctx);
    private static native long alloc0(long ctx, long bytes);
    private static native void free0(long ctx, long address);
    private static native void memoryStats0(long ctx, long[] out);
    private static native void emptyCache0(long ctx);
    private static native void setMemoryLimit0(long ctx, long bytes);
    private static native void copyFromArray0(long ctx, long dst, float[] src, int offset, int count);
    private static native void copyToArray0(long ctx, long src, float[] dst, int offset, int count);
    private static native void copyFromIntArray0(long ctx, long dst, int[] src, int offset, int count);
    private static native void copyToIntArray0(long ctx, long src, int[] dst, int offset, int count);
    private static native void copyToDevice0(long ctx, long dst, long hostSrc, long bytes);
    private static native void copyToHost0(long ctx, long hostDst, long src, long bytes);
    private static native void copyDevice0(long ctx, long dst, long src, long bytes);
    private static native void copyDevice2d0(long ctx, long dst, long dstPitch, long src, long srcPitch, long width,
                                             long rows);
}

package dev.kiln.internal;

import dev.kiln.Device;

/**
 * Binding of the profiling entries (native/src/jni/jni_profile.cpp): the entry and kernel path of the calling
 * thread's last op, device times from CUDA events, the stream timer and L2 flush of benchmarks, NVTX ranges, the
 * device's measured peak. Not public API.
 */
public final class ProfilerNative {
    private ProfilerNative() {
    }

    /**
     * Sets {@code out[0]} to the entry the calling thread ran last ("kiln_conv2d_forward_f32", "" if none since the
     * last read) and {@code out[1]} to its kernel path ("winograd", "" where it has one); returns whether its device
     * time will be among {@link #deviceTimes}. Reading clears them.
     */
    public static boolean lastOp(String[] out) {
        if (out.length < 2) throw new IllegalArgumentException("lastOp: needs room for the entry and the path");
        return lastOp0(out);
    }

    /** Starts or stops timing every op on {@code device} with CUDA events; nothing on the CPU. */
    public static void deviceTiming(Device device, boolean on) {
        deviceTiming0(Contexts.of(device), on);
    }

    /** The device times (ms), in launch order, of the ops timed on {@code device} since the last call (waits for them). */
    public static float[] deviceTimes(Device device, int expected) {
        float[] ms = new float[Math.max(expected, 0)];
        int count = deviceTimes0(Contexts.of(device), ms);
        return count == ms.length ? ms : java.util.Arrays.copyOf(ms, count);
    }

    /** Records the opening CUDA event of a timed stretch on {@code device}'s stream (kiln_stream_timer_start). */
    public static void streamTimerStart(Device device) {
        streamTimerStart0(Contexts.of(device));
    }

    /** Closes the stretch, waits for it and returns its device time in ms (kiln_stream_timer_stop). */
    public static double streamTimerStop(Device device) {
        return streamTimerStop0(Contexts.of(device));
    }

    /** Queues a write of twice the L2 on {@code device}'s stream; the bytes written, 0 on the CPU (kiln_flush_l2). */
    public static long flushL2(Device device) {
        return flushL20(Contexts.of(device));
    }

    public static void rangePush(String name) {
        rangePush0(name);
    }

    public static void rangePop() {
        rangePop0();
    }

    /** {fp32 FMA GFLOP/s, copy GB/s} of {@code device}, measured now (kiln_measure_peak). */
    public static double[] measurePeak(Device device) {
        double[] out = new double[2];
        measurePeak0(Contexts.of(device), out);
        return out;
    }

    // ---- natives (registered by JNI_OnLoad from native/src/jni/jni_profile.cpp) ------------------------------------

    private static native boolean lastOp0(String[] out);

    private static native void deviceTiming0(long ctx, boolean on);

    private static native int deviceTimes0(long ctx, float[] ms);

    private static native void streamTimerStart0(long ctx);

    private static native double streamTimerStop0(long ctx);

    private static native long flushL20(long ctx);

    private static native void rangePush0(String name);

    private static native void rangePop0();

    private static native void measurePeak0(long ctx, double[] out);
}

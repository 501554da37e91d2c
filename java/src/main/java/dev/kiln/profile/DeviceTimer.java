package dev.kiln.profile;

import dev.kiln.Device;
import dev.kiln.internal.ProfilerNative;

/**
 * Device-side timing and a cold L2 for benchmarks (kiln_stream_timer_start / _stop and kiln_flush_l2 in kiln.h).
 * On a CUDA device, {@link #start} records a CUDA event on the device's stream and {@link #stopMillis} records a
 * second one, waits for it and returns the device time between the two: the time the queued ops took on the GPU,
 * without the host's launch and synchronization costs that a wall clock around them includes. One stretch per device
 * at a time (starting again restarts it); ops other threads queue on the device meanwhile are timed too. A CPU has
 * no stream to time ({@link #supported} is false; {@link #start} throws): its ops' time is the wall time.
 * {@link #flushL2} queues a write of twice the GPU's L2 so the next op finds none of its data there; on the CPU it
 * does nothing. Neither may be called while the device captures a {@link dev.kiln.CudaGraph}.
 */
public final class DeviceTimer {
    private DeviceTimer() {
    }

    /** Whether {@code device} can be timed with events: CUDA devices only. */
    public static boolean supported(Device device) {
        return device.isCuda();
    }

    /** Starts a timed stretch on {@code device}'s stream; returns at once. */
    public static void start(Device device) {
        ProfilerNative.streamTimerStart(device);
    }

    /** Ends the stretch begun by {@link #start}, waits for it, and returns its device time in milliseconds. */
    public static double stopMillis(Device device) {
        return ProfilerNative.streamTimerStop(device);
    }

    /**
     * Queues, on {@code device}'s stream, a write of a buffer of at least twice its L2 cache, so the next op starts
     * with a cold L2; returns without waiting, with the bytes written (0 on the CPU, where this is a no-op). The
     * buffer is allocated on the first call, kept for the next, and counts as one live allocation in
     * {@link Device#memoryStats} until {@link Device#emptyCache}.
     */
    public static long flushL2(Device device) {
        return ProfilerNative.flushL2(device);
    }
}

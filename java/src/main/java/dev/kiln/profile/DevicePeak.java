package dev.kiln.profile;

import dev.kiln.Device;
import dev.kiln.internal.ProfilerNative;

/**
 * What a device can do at best, measured on it (never taken from a datasheet): the roofline that benchmark figures
 * are a fraction of.
 *
 * @param fmaGflops fp32 fused multiply-adds (2 flops each) with every core or SM busy, GFLOP/s
 * @param copyGbps  a copy between two buffers of the device's memory, bytes read plus written per second, GB/s
 */
public record DevicePeak(double fmaGflops, double copyGbps) {
    /**
     * Measures {@code device} now (best of 3, under a second). CPU: FMA chains on each of Kiln's threads and a
     * parallel 128 MiB copy; CUDA: FMA chains on every SM and a 256 MiB device-to-device copy timed with events.
     */
    public static DevicePeak measure(Device device) {
        double[] v = ProfilerNative.measurePeak(device);
        return new DevicePeak(v[0], v[1]);
    }

    /** The fraction of this roofline a rate reaches: GFLOP/s against the FMA peak, else GB/s against the copy. */
    public double fraction(double rate, boolean isFlops) {
        double peak = isFlops ? fmaGflops : copyGbps;
        return peak > 0 ? rate / peak : Double.NaN;
    }
}

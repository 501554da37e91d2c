package dev.kiln.profile;

import dev.kiln.Device;
import dev.kiln.Profiler;

import java.util.Arrays;

/**
 * Times one {@link OpSuite} case on a device: warm-up, then {@code samples} samples of enough runs to last at least
 * {@code minSampleMillis} each, reported as the median time per run with the fastest and slowest sample beside it.
 * The clock: on the CPU, the wall clock ({@code System.nanoTime}) around a sample's runs; on CUDA, device time from
 * CUDA events ({@link DeviceTimer}) around them, so the host's launch and synchronization costs are left out (though
 * not the gaps where the GPU waited for launches: an op shorter than its launch still shows the launch rate). With
 * {@code flushL2} on CUDA, each run is preceded by a write of twice the L2 ({@link DeviceTimer#flushL2}) outside the
 * timed part and timed alone, so the figure is a run on cold data; on the CPU the flush does nothing (reported as
 * {@link #L2_NOOP_ON_CPU}). The arithmetic and the bytes of one run come from the bindings' own accounting (one
 * profiled run), so the rate is GFLOP/s where the ops state their flops, else GB/s of the bytes their arguments span;
 * the fraction is of the device's measured {@link DevicePeak}.
 */
public final class OpBenchmark {
    private OpBenchmark() {
    }

    /** {@link Result#clock}: System.nanoTime around the runs, the device synchronized before a sample ends. */
    public static final String CLOCK_WALL = "wall";
    /** {@link Result#clock}: device time between CUDA events recorded on the device's stream around the runs. */
    public static final String CLOCK_CUDA_EVENTS = "cuda events";
    /** {@link Result#l2}: nothing flushed; a run finds what the previous one left in the caches. */
    public static final String L2_WARM = "warm";
    /** {@link Result#l2}: the GPU's L2 flushed before each run (outside the timed part), each run timed alone. */
    public static final String L2_FLUSHED = "flushed";
    /** {@link Result#l2}: a flush was asked for on the CPU, where it does nothing. */
    public static final String L2_NOOP_ON_CPU = "flush: no-op on cpu";

    /**
     * One case's figures. {@code rate} is in {@code unit} ("GFLOP/s" or "GB/s") at the median time; {@code paths} the
     * kernel paths its ops took ("winograd"): a Winograd convolution does fewer multiplies than the direct count its
     * flops state, so its rate is an effective one and may pass the FMA peak. {@code clock} is {@link #CLOCK_WALL} or
     * {@link #CLOCK_CUDA_EVENTS}; {@code l2} is {@link #L2_WARM}, {@link #L2_FLUSHED} or {@link #L2_NOOP_ON_CPU}.
     */
    public record Result(String family, String name, String shape, String device, double medianMillis,
                         double minMillis, double maxMillis, int samples, int runsPerSample, long flops, long bytes,
                         double rate, String unit, double fractionOfPeak, String paths, String clock, String l2) {
    }

    /** {@link #measure(OpSuite.Case, Device, DevicePeak, int, double, boolean)} without an L2 flush. */
    public static Result measure(OpSuite.Case c, Device device, DevicePeak peak, int samples, double minSampleMillis) {
        return measure(c, device, peak, samples, minSampleMillis, false);
    }

    /** The clock {@link #measure} uses on {@code device}. */
    public static String clockOf(Device device) {
        return DeviceTimer.supported(device) ? CLOCK_CUDA_EVENTS : CLOCK_WALL;
    }

    /** What {@link #measure} does to the L2 on {@code device} when asked to flush it or not. */
    public static String l2Of(Device device, boolean flushL2) {
        return !flushL2 ? L2_WARM : device.isCuda() ? L2_FLUSHED : L2_NOOP_ON_CPU;
    }

    /**
     * Times case {@code c} on {@code device} as the class comment says: {@code samples} (at least 1) samples of at
     * least {@code minSampleMillis} each, the L2 flushed before each run when {@code flushL2}; {@code peak} may be
     * null (the fraction is then NaN).
     */
    public static Result measure(OpSuite.Case c, Device device, DevicePeak peak, int samples, double minSampleMillis,
                                 boolean flushL2) {
        if (samples < 1) throw new IllegalArgumentException("OpBenchmark: samples must be >= 1, got " + samples);
        try (OpSuite.Prepared p = c.prepare().apply(device)) {
            long flops = 0, bytes = 0;
            java.util.Set<String> paths = new java.util.TreeSet<>();
            p.run();  // first touch: packing buffers, the allocator's cache, the JIT's first compile
            try (Profiler profiler = Profiler.start()) {
                p.run();
                device.synchronize();
                profiler.stop();
                for (OpRecord o : profiler.ops()) {
                    flops += o.flops();
                    bytes += o.bytes();
                    if (!o.path().isEmpty()) paths.add(o.path());
                }
            }
            final boolean events = DeviceTimer.supported(device);
            final boolean flush = flushL2 && device.isCuda();
            // Warm up for about a sample's time (flushes included), and learn how many runs fill one.
            long t0 = System.nanoTime();
            int warm = 0;
            do {
                if (flush) DeviceTimer.flushL2(device);
                p.run();
                warm++;
            } while (System.nanoTime() - t0 < minSampleMillis * 1e6 || warm < 3);
            device.synchronize();
            double perRun = (System.nanoTime() - t0) / 1e6 / warm;
            int runs = (int) Math.max(1, Math.ceil(minSampleMillis / Math.max(perRun, 1e-6)));
            double[] ms = new double[samples];
            for (int s = 0; s < samples; s++) {
                if (flush) {
                    // Each run alone between its events, the flush before it and outside them.
                    double total = 0;
                    for (int r = 0; r < runs; r++) {
                        DeviceTimer.flushL2(device);
                        DeviceTimer.start(device);
                        p.run();
                        total += DeviceTimer.stopMillis(device);
                    }
                    ms[s] = total / runs;
                } else if (events) {
                    DeviceTimer.start(device);
                    for (int r = 0; r < runs; r++) p.run();
                    ms[s] = DeviceTimer.stopMillis(device) / runs;
                } else {
                    long start = System.nanoTime();
                    for (int r = 0; r < runs; r++) p.run();
                    device.synchronize();
                    ms[s] = (System.nanoTime() - start) / 1e6 / runs;
                }
            }
            Arrays.sort(ms);
            double median = ms[samples / 2];
            boolean isFlops = flops > 0;
            double rate = (isFlops ? flops : bytes) / (median * 1e6);
            return new Result(c.family(), c.name(), c.shape(), device.toString(), median, ms[0], ms[samples - 1], samples,
                    runs, flops, bytes, rate, isFlops ? "GFLOP/s" : "GB/s", peak == null ? Double.NaN : peak.fraction(rate, isFlops),
                    String.join(",", paths), clockOf(device), l2Of(device, flushL2));
        }
    }
}

package dev.kiln.profile;

import dev.kiln.Device;
import dev.kiln.Profiler;

import java.util.Arrays;

/**
 * Times one {@link OpSuite} case on a device: warm-up, then {@code samples} samples of enough runs to last at least
 * {@code minSampleMillis} each (the device synchronized before a sample ends), reported as the median time per run
 * with the fastest and slowest sample beside it. The arithmetic and the bytes of one run come from the bindings'
 * own accounting (one profiled run), so the rate is GFLOP/s where the ops state their flops, else GB/s of the bytes
 * their arguments span; the fraction is of the device's measured {@link DevicePeak}.
 */
public final class OpBenchmark {
    private OpBenchmark() {
    }

    /** One case's figures. {@code rate} is in {@code unit} ("GFLOP/s" or "GB/s") at the median time. */
    /**
     * One case's figures. {@code rate} is in {@code unit} ("GFLOP/s" or "GB/s") at the median time; {@code paths} the
     * kernel paths its ops took ("winograd"): a Winograd convolution does fewer multiplies than the direct count its
     * flops state, so its rate is an effective one and may pass the FMA peak.
     */
    public record Result(String family, String name, String shape, String device, double medianMillis,
                         double minMillis, double maxMillis, int samples, int runsPerSample, long flops, long bytes,
                         double rate, String unit, double fractionOfPeak, String paths) {
    }

    public static Result measure(OpSuite.Case c, Device device, DevicePeak peak, int samples, double minSampleMillis) {
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
            // Warm up for about a sample's time, and learn how many runs fill one.
            long t0 = System.nanoTime();
            int warm = 0;
            do {
                p.run();
                warm++;
            } while (System.nanoTime() - t0 < minSampleMillis * 1e6 || warm < 3);
            device.synchronize();
            double perRun = (System.nanoTime() - t0) / 1e6 / warm;
            int runs = (int) Math.max(1, Math.ceil(minSampleMillis / Math.max(perRun, 1e-6)));
            double[] ms = new double[samples];
            for (int s = 0; s < samples; s++) {
                long start = System.nanoTime();
                for (int r = 0; r < runs; r++) p.run();
                device.synchronize();
                ms[s] = (System.nanoTime() - start) / 1e6 / runs;
            }
            Arrays.sort(ms);
            double median = ms[samples / 2];
            boolean isFlops = flops > 0;
            double rate = (isFlops ? flops : bytes) / (median * 1e6);
            return new Result(c.family(), c.name(), c.shape(), device.toString(), median, ms[0], ms[samples - 1], samples,
                    runs, flops, bytes, rate, isFlops ? "GFLOP/s" : "GB/s", peak == null ? Double.NaN : peak.fraction(rate, isFlops),
                    String.join(",", paths));
        }
    }
}

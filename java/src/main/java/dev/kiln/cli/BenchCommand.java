package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.Kiln;
import dev.kiln.profile.DevicePeak;
import dev.kiln.profile.OpBenchmark;
import dev.kiln.profile.OpSuite;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code kiln bench}: the op-family suite ({@link OpSuite}) timed on one device, printed as a markdown table of
 * median times with their spread, achieved GFLOP/s or GB/s and the fraction of the device's measured peak. The clock
 * is the wall clock on the CPU and CUDA events (device time) on a GPU; {@code --flush-l2} writes twice the GPU's L2
 * before each run, outside the timed part (a no-op on the CPU). Both are named above the table and in the JSON.
 */
@Command(name = "bench", description = "Time every op family (GEMM, elementwise, reductions, losses, optimizers, conv2d, "
        + "pooling, batch norm, LSTM, attention, layer norm, sampling, transpose) through the Java API on one device; "
        + "print the median time per run with the spread of the samples, GFLOP/s or GB/s, and the fraction of the "
        + "device's measured peak (fp32 FMA throughput, copy bandwidth).")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or cuda:N (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--family", paramLabel = "F[,F...]", description = "Only these families (default: all): "
            + "gemm, elementwise, reductions, losses, optimizers, conv2d, pooling, batch_norm, lstm, attention, layer_norm, sampling")
    String family;

    @Option(names = "--samples", defaultValue = "7", description = "Timed samples per case (default: ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--sample-ms", defaultValue = "25", description = "Least milliseconds per sample (default: ${DEFAULT-VALUE})")
    double sampleMillis;

    @Option(names = "--flush-l2", description = "On a GPU, flush the L2 cache before each run (a write of twice its "
            + "size, outside the timed part) and time each run alone, so every run starts on cold data. On the CPU the "
            + "flush does nothing (its caches are not flushed) and the figures are the usual warm ones.")
    boolean flushL2;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write every figure as JSON (bench/compare reads it)")
    Path json;

    @Option(names = "--list", description = "List the cases and their shapes, time nothing")
    boolean list;

    @Override
    public Integer call() throws Exception {
        List<OpSuite.Case> cases = OpSuite.select(family);
        if (list) {
            for (OpSuite.Case c : cases) System.out.printf("%-12s %-40s %s%n", c.family(), c.name(), c.shape());
            return 0;
        }
        if (samples < 1 || !(sampleMillis > 0)) throw new IllegalArgumentException("--samples must be >= 1 and --sample-ms > 0");
        Device dev = Device.parse(device);
        DevicePeak peak = DevicePeak.measure(dev);
        double load = loadAverage();
        System.out.printf(Locale.ROOT, "kiln bench on %s (%s); %s%n", dev, dev.info().name(), Kiln.buildInfo());
        System.out.printf(Locale.ROOT, "measured peak: %.1f GFLOP/s fp32 FMA, %.1f GB/s copy; load average %.2f; "
                + "median of %d samples of >= %.0f ms%n", peak.fmaGflops(), peak.copyGbps(), load, samples, sampleMillis);
        String clock = OpBenchmark.clockOf(dev), l2 = OpBenchmark.l2Of(dev, flushL2);
        System.out.printf(Locale.ROOT, "clock: %s; L2: %s%n%n", clock.equals(OpBenchmark.CLOCK_WALL)
                ? "wall (System.nanoTime, device synchronized)" : "device time from CUDA events", l2.equals(OpBenchmark.L2_FLUSHED)
                ? "flushed before each run (each run timed alone)" : l2);
        System.out.println("| family | case [kernel path] | median ms | spread (min-max) ms | rate | of peak |");
        System.out.println("|---|---|---:|---:|---:|---:|");
        List<OpBenchmark.Result> results = new ArrayList<>();
        for (OpSuite.Case c : cases) {
            OpBenchmark.Result r = OpBenchmark.measure(c, dev, peak, samples, sampleMillis, flushL2);
            results.add(r);
            System.out.printf(Locale.ROOT, "| %s | %s%s | %.4f | %.4f-%.4f | %.2f %s | %.1f%% |%n", r.family(), r.name(),
                    r.paths().isEmpty() ? "" : " [" + r.paths() + "]", r.medianMillis(), r.minMillis(), r.maxMillis(),
                    r.rate(), r.unit(), 100 * r.fractionOfPeak());
        }
        if (json != null) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("device", dev.toString());
            doc.put("device_name", dev.info().name());
            doc.put("build", Kiln.buildInfo());
            doc.put("peak_fma_gflops", peak.fmaGflops());
            doc.put("peak_copy_gbps", peak.copyGbps());
            doc.put("load_average", load);
            doc.put("clock", clock);
            doc.put("l2", l2);
            List<Map<String, Object>> rows = new ArrayList<>();
            for (OpBenchmark.Result r : results) rows.add(row(r));
            doc.put("results", rows);
            Metrics.write(json, doc);
            System.out.println("\njson: " + json.toAbsolutePath());
        }
        return 0;
    }

    private static Map<String, Object> row(OpBenchmark.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("family", r.family());
        m.put("name", r.name());
        m.put("shape", r.shape());
        m.put("median_ms", r.medianMillis());
        m.put("min_ms", r.minMillis());
        m.put("max_ms", r.maxMillis());
        m.put("samples", r.samples());
        m.put("runs_per_sample", r.runsPerSample());
        m.put("flops", r.flops());
        m.put("bytes", r.bytes());
        m.put("rate", r.rate());
        m.put("unit", r.unit());
        m.put("fraction_of_peak", r.fractionOfPeak());
        m.put("paths", r.paths());
        m.put("clock", r.clock());
        m.put("l2", r.l2());
        return m;
    }

    /** The 1-minute load average (Linux), or -1: a timing on a shared machine means little without it. */
    static double loadAverage() {
        try {
            String[] f = java.nio.file.Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return Double.parseDouble(f[0]);
        } catch (Exception e) {
            return -1;
        }
    }
}

package dev.kiln.profile;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The profiler's table: ops grouped by entry, kernel path and device, sorted by total time, each with its count,
 * mean, share of all op time and achieved rate (GFLOP/s where the arithmetic is known, else GB/s of the arguments'
 * bytes); then the named ranges grouped by name with their numbers folded ("step 1", "step 2" -> "step #").
 */
public final class ProfileSummary {
    private ProfileSummary() {
    }

    /** One row of the op table. */
    public record Row(String label, String device, long calls, double totalMillis, long flops, long bytes) {
        /** Mean time per call in microseconds. */
        public double meanMicros() {
            return 1e3 * totalMillis / calls;
        }

        /** GFLOP/s where flops are known, else GB/s; NaN for no time. */
        public double rate() {
            if (totalMillis <= 0) return Double.NaN;
            return (flops > 0 ? flops : bytes) / (totalMillis * 1e6);
        }

        /** The unit of {@link #rate()}: "GFLOP/s" or "GB/s". */
        public String rateUnit() {
            return flops > 0 ? "GFLOP/s" : "GB/s";
        }
    }

    /** The op table's rows, largest total time first. */
    public static List<Row> rows(List<OpRecord> ops) {
        Map<String, Row> byKey = new LinkedHashMap<>();
        for (OpRecord o : ops) {
            String device = o.device() == null ? "-" : o.device().toString();
            String key = o.label() + '\u0000' + device;
            Row r = byKey.get(key);
            byKey.put(key, r == null ? new Row(o.label(), device, 1, o.millis(), o.flops(), o.bytes())
                    : new Row(r.label, device, r.calls + 1, r.totalMillis + o.millis(), r.flops + o.flops(), r.bytes + o.bytes()));
        }
        List<Row> rows = new ArrayList<>(byKey.values());
        rows.sort(Comparator.comparingDouble(Row::totalMillis).reversed().thenComparing(Row::label));
        return rows;
    }

    /** Ranges grouped by name with digits folded to '#': name -> {count, total ms}. */
    public static Map<String, double[]> rangeTotals(List<RangeRecord> ranges) {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (RangeRecord r : ranges) {
            double[] t = out.computeIfAbsent(r.name().replaceAll("[0-9]+", "#"), k -> new double[2]);
            t[0]++;
            t[1] += r.millis();
        }
        return out;
    }

    /**
     * The table as text: a header line with the op count and the op and recorded times ({@code recordedNanos}), the op
     * rows of {@link #rows}, then the {@link #rangeTotals} of {@code ranges}, if any.
     */
    public static String format(List<OpRecord> ops, List<RangeRecord> ranges, long recordedNanos) {
        List<Row> rows = rows(ops);
        double opMillis = rows.stream().mapToDouble(Row::totalMillis).sum();
        int width = Math.max(2, rows.stream().mapToInt(r -> r.label().length()).max().orElse(2));
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%d ops, %.1f ms in ops over %.1f ms recorded%n", ops.size(), opMillis,
                recordedNanos / 1e6));
        String head = "%-" + width + "s  %-7s %8s %11s %10s %6s %14s%n";
        String line = "%-" + width + "s  %-7s %8d %11.3f %10.1f %5.1f%% %14s%n";
        b.append(String.format(Locale.ROOT, head, "op [path]", "device", "calls", "total ms", "mean us", "share", "rate"));
        for (Row r : rows) {
            double rate = r.rate();
            String rateText = Double.isNaN(rate) ? "-" : String.format(Locale.ROOT, "%.2f %s", rate, r.rateUnit());
            b.append(String.format(Locale.ROOT, line, r.label(), r.device(), r.calls(), r.totalMillis(), r.meanMicros(),
                    opMillis > 0 ? 100 * r.totalMillis() / opMillis : 0.0, rateText));
        }
        Map<String, double[]> totals = rangeTotals(ranges);
        if (!totals.isEmpty()) {
            int rw = Math.max(5, totals.keySet().stream().mapToInt(String::length).max().orElse(5));
            b.append(String.format(Locale.ROOT, "%n%-" + rw + "s %8s %11s %10s%n", "range", "count", "total ms", "mean ms"));
            totals.forEach((name, t) -> b.append(String.format(Locale.ROOT, "%-" + rw + "s %8d %11.3f %10.3f%n", name,
                    (long) t[0], t[1], t[1] / t[0])));
        }
        return b.toString();
    }
}

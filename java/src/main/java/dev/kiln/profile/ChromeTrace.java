package dev.kiln.profile;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.kiln.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The trace-event JSON format (the "JSON Object Format" of Chrome's trace viewer, which Perfetto opens): one
 * complete event ("ph": "X") per op and per range, timestamps and durations in microseconds, one track per Java
 * thread. Ranges enclose the ops run inside them, so the viewer nests them; each op's arguments carry its shapes,
 * kernel path, device and, on CUDA, its device time.
 */
public final class ChromeTrace {
    private static final int PID = 1;

    private ChromeTrace() {
    }

    /**
     * Writes {@code ops} and {@code ranges} to {@code file} as one trace document, creating its folder if need be; the
     * file is replaced atomically (a failed write leaves the old trace).
     */
    public static void write(Path file, List<OpRecord> ops, List<RangeRecord> ranges) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        AtomicFiles.writeString(file, gson().toJson(document(ops, ranges)));
    }

    /** The trace as the object Gson writes: {"traceEvents": [...], "displayTimeUnit": "ms"}. */
    public static Map<String, Object> document(List<OpRecord> ops, List<RangeRecord> ranges) {
        List<Map<String, Object>> events = new ArrayList<>();
        events.add(metadata("process_name", 0, Map.of("name", "kiln")));
        TreeSet<Long> threads = new TreeSet<>();
        ops.forEach(o -> threads.add(o.thread()));
        ranges.forEach(r -> threads.add(r.thread()));
        for (long t : threads) events.add(metadata("thread_name", t, Map.of("name", "java thread " + t)));

        List<Map<String, Object>> timed = new ArrayList<>();
        for (RangeRecord r : ranges) {
            timed.add(complete(r.name(), "range", r.startNanos(), r.endNanos() - r.startNanos(), r.thread(),
                    Map.of("depth", r.depth())));
        }
        for (OpRecord o : ops) {
            Map<String, Object> args = new LinkedHashMap<>();
            args.put("args", o.args());
            if (!o.path().isEmpty()) args.put("path", o.path());
            args.put("device", o.device() == null ? "-" : o.device().toString());
            if (!Double.isNaN(o.deviceMillis())) args.put("device_ms", o.deviceMillis());
            if (o.flops() > 0) args.put("flops", o.flops());
            args.put("bytes", o.bytes());
            timed.add(complete(o.name(), "op", o.startNanos(), o.wallNanos(), o.thread(), args));
        }
        // Sorted by start, longer first on ties, so a range comes before the op that starts with it.
        timed.sort(Comparator.<Map<String, Object>>comparingDouble(e -> (double) e.get("ts"))
                .thenComparing(e -> -(double) e.get("dur")));
        events.addAll(timed);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("traceEvents", events);
        doc.put("displayTimeUnit", "ms");
        return doc;
    }

    private static Map<String, Object> complete(String name, String category, long startNanos, long durationNanos,
                                                long thread, Map<String, Object> args) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("name", name);
        e.put("cat", category);
        e.put("ph", "X");
        e.put("ts", startNanos / 1e3);
        e.put("dur", Math.max(0, durationNanos) / 1e3);
        e.put("pid", PID);
        e.put("tid", thread);
        e.put("args", args);
        return e;
    }

    private static Map<String, Object> metadata(String name, long thread, Map<String, Object> args) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("name", name);
        e.put("ph", "M");
        e.put("pid", PID);
        e.put("tid", thread);
        e.put("args", args);
        return e;
    }

    private static Gson gson() {
        return new GsonBuilder().serializeSpecialFloatingPointValues().create();
    }
}

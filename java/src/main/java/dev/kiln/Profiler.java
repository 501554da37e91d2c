package dev.kiln;

import dev.kiln.internal.OpHooks;
import dev.kiln.internal.ProfilerNative;
import dev.kiln.profile.ChromeTrace;
import dev.kiln.profile.OpRecord;
import dev.kiln.profile.ProfileSummary;
import dev.kiln.profile.RangeRecord;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Kernel-level profiling from Java: every op that crosses into the native library, with the entry and kernel path
 * that ran, its arguments' shapes, its host time and, on CUDA, its device time from CUDA events; grouped under named
 * ranges. The {@link dev.kiln.train.Trainer} names each step ("step 42") and its "forward", "backward" and
 * "optimizer" parts; add your own with {@link #range(String)}.
 *
 * <pre>{@code
 * try (Profiler profiler = Profiler.start()) {
 *     trainer.epoch(1, loader, step);
 *     profiler.stop();
 *     System.out.print(profiler.summary());       // ops by total time, with counts and GFLOP/s or GB/s
 *     profiler.writeChromeTrace(Path.of("trace.json"));  // open in Perfetto (ui.perfetto.dev) or chrome://tracing
 * }
 * }</pre>
 *
 * <p>One profiler records at a time, from every thread. While none records, an op pays one volatile read and
 * {@link #range(String)} returns a shared no-op (on a machine with a GPU it still marks an NVTX range, so Nsight
 * Systems shows Java's names). On CUDA, device times are read back when the profiler stops; they pair with ops in
 * launch order, which assumes one thread drives each device while recording.
 */
public final class Profiler implements AutoCloseable {
    private static final Range NO_RANGE = () -> { };
    private static volatile Profiler active;
    private static volatile Boolean nvtx;  // whether range() marks NVTX ranges: once a GPU is seen

    private final long origin = System.nanoTime();
    private final List<PendingOp> ops = new ArrayList<>();
    private final List<RangeRecord> ranges = new ArrayList<>();
    private final Map<Device, List<PendingOp>> awaitingDeviceTime = new LinkedHashMap<>();
    private final Set<Device> timed = new HashSet<>();
    private final ThreadLocal<Deque<OpenRange>> open = ThreadLocal.withInitial(ArrayDeque::new);
    private final OpHooks.Sink sink = new Sink();
    private long stoppedNanos = -1;

    private Profiler() {
    }

    /** Starts recording; refused while another profiler records. Stop it with {@link #stop()} or close(). */
    public static Profiler start() {
        Profiler p = new Profiler();
        OpHooks.install(p.sink);
        active = p;
        return p;
    }

    /** The profiler recording now, or null. */
    public static Profiler active() {
        return active;
    }

    /**
     * Opens a named range on this thread, closed by the returned handle (try-with-resources); ranges nest. Recorded
     * by the active profiler, and marked for Nsight (NVTX) where there is a GPU; otherwise it costs nothing.
     */
    public static Range range(String name) {
        Profiler p = active;
        boolean marks = marksNvtx();
        if (p == null && !marks) return NO_RANGE;
        if (name == null) throw new IllegalArgumentException("Profiler.range: name must not be null");
        if (marks) ProfilerNative.rangePush(name);
        return new Handle(p, p == null ? null : p.openRange(name), marks);
    }

    /** A range handle; closing it twice closes it once. */
    @FunctionalInterface
    public interface Range extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Stops recording and reads back the device times of CUDA ops. Idempotent. Device timing is switched off however
     * the read ends; if it fails (a CUDA error, or device times that do not match the ops recorded), the exception
     * is thrown after that, and the ops of that device keep their wall times only.
     */
    public synchronized void stop() {
        if (stoppedNanos >= 0) return;
        OpHooks.uninstall(sink);
        if (active == this) active = null;
        stoppedNanos = System.nanoTime() - origin;
        RuntimeException failure = null;
        for (Map.Entry<Device, List<PendingOp>> e : awaitingDeviceTime.entrySet()) {
            List<PendingOp> waiting = e.getValue();
            try {
                float[] ms = ProfilerNative.deviceTimes(e.getKey(), waiting.size());
                if (ms.length != waiting.size()) {
                    throw new IllegalStateException("Profiler: " + waiting.size() + " ops on " + e.getKey()
                            + " wait for device times but the library timed " + ms.length);
                }
                for (int i = 0; i < ms.length; i++) waiting.get(i).deviceMillis = ms[i];
            } catch (RuntimeException ex) {
                failure = firstOf(failure, ex);
            }
        }
        awaitingDeviceTime.clear();
        for (Device d : timed) {
            try {
                ProfilerNative.deviceTiming(d, false);  // also forgets the times no record took
            } catch (RuntimeException ex) {
                failure = firstOf(failure, ex);
            }
        }
        if (failure != null) throw failure;
    }

    private static RuntimeException firstOf(RuntimeException first, RuntimeException next) {
        if (first == null) return next;
        first.addSuppressed(next);
        return first;
    }

    @Override
    public void close() {
        stop();
    }

    /** Every op recorded, in the order they returned. Stop the profiler first. */
    public synchronized List<OpRecord> ops() {
        requireStopped("ops()");
        List<OpRecord> out = new ArrayList<>(ops.size());
        for (PendingOp o : ops) out.add(o.record());
        return out;
    }

    /** Every range closed while recording, in the order they closed. */
    public synchronized List<RangeRecord> ranges() {
        requireStopped("ranges()");
        return List.copyOf(ranges);
    }

    /** Nanoseconds from start to stop. */
    public long recordedNanos() {
        requireStopped("recordedNanos()");
        return stoppedNanos;
    }

    /** The table of ops by total time, with counts, mean time, share and GFLOP/s or GB/s; then the ranges. */
    public String summary() {
        return ProfileSummary.format(ops(), ranges(), recordedNanos());
    }

    /** Writes the trace-event JSON that Perfetto and chrome://tracing open: ops nested in their ranges, per thread. */
    public void writeChromeTrace(Path file) throws IOException {
        ChromeTrace.write(file, ops(), ranges());
    }

    private void requireStopped(String what) {
        if (stoppedNanos < 0) throw new IllegalStateException("Profiler." + what + ": stop() the profiler first");
    }

    private static boolean marksNvtx() {
        Boolean on = nvtx;
        if (on == null) nvtx = on = Device.cudaAvailable();
        return on;
    }

    private OpenRange openRange(String name) {
        Deque<OpenRange> stack = open.get();
        OpenRange r = new OpenRange(name, System.nanoTime() - origin, stack.size());
        stack.push(r);
        return r;
    }

    private void closeRange(OpenRange r) {
        if (r.closed) return;
        long end = System.nanoTime() - origin;
        Deque<OpenRange> stack = open.get();
        // Close what was opened inside r and left open (an exception skipped its close) along with it.
        while (!stack.isEmpty()) {
            OpenRange top = stack.pop();
            top.closed = true;
            synchronized (this) {
                if (stoppedNanos < 0) ranges.add(new RangeRecord(top.name, top.start, end, top.depth, Thread.currentThread().getId()));
            }
            if (top == r) break;
        }
    }

    private String enclosing() {
        Deque<OpenRange> stack = open.get();
        if (stack.isEmpty()) return "";
        StringBuilder b = new StringBuilder();
        var it = stack.descendingIterator();
        while (it.hasNext()) {
            if (b.length() > 0) b.append(" / ");
            b.append(it.next().name);
        }
        return b.toString();
    }

    private static final class Handle implements Range {
        private final Profiler profiler;  // null when only NVTX marks the range
        private final OpenRange range;
        private final boolean nvtx;
        private boolean closed;

        Handle(Profiler profiler, OpenRange range, boolean nvtx) {
            this.profiler = profiler;
            this.range = range;
            this.nvtx = nvtx;
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            if (profiler != null) profiler.closeRange(range);
            if (nvtx) ProfilerNative.rangePop();
        }
    }

    private static final class OpenRange {
        final String name;
        final long start;
        final int depth;
        boolean closed;

        OpenRange(String name, long start, int depth) {
            this.name = name;
            this.start = start;
            this.depth = depth;
        }
    }

    /** An op whose device time may still be on its way. */
    private static final class PendingOp {
        final String name, path, args, ranges;
        final Device device;
        final long start, wall, flops, bytes, thread;
        double deviceMillis = Double.NaN;

        PendingOp(String name, String path, Device device, String args, long start, long wall, long flops, long bytes,
                  long thread, String ranges) {
            this.name = name;
            this.path = path;
            this.device = device;
            this.args = args;
            this.start = start;
            this.wall = wall;
            this.flops = flops;
            this.bytes = bytes;
            this.thread = thread;
            this.ranges = ranges;
        }

        OpRecord record() {
            return new OpRecord(name, path, device, args, start, wall, deviceMillis, flops, bytes, thread, ranges);
        }
    }

    private final class Sink implements OpHooks.Sink {
        @Override
        public void beforeOp(Device device) {
            if (!device.isCuda()) return;
            synchronized (Profiler.this) {
                if (timed.add(device)) ProfilerNative.deviceTiming(device, true);
            }
        }

        @Override
        public void op(String op, String entry, String path, boolean deviceTimed, Device device, String args,
                       long startNanos, long endNanos, long flops, long bytes) {
            String name = entry.isEmpty() ? op : entry.startsWith("kiln_") ? entry.substring(5) : entry;
            PendingOp o = new PendingOp(name, path, device, args, startNanos - origin, endNanos - startNanos, flops, bytes,
                    Thread.currentThread().getId(), enclosing());
            synchronized (Profiler.this) {
                if (stoppedNanos >= 0) return;
                ops.add(o);
                if (deviceTimed) awaitingDeviceTime.computeIfAbsent(device, d -> new ArrayList<>()).add(o);
            }
        }
    }
}

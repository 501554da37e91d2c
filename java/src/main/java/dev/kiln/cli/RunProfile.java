package dev.kiln.cli;

import dev.kiln.Profiler;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code kiln train ... --profile FILE}: the run under Kiln's profiler, its trace written and its table printed. */
final class RunProfile {
    private RunProfile() {
    }

    /** Also when Ctrl-C stopped the run: the profile of the steps it took is what a long profiled run was for. */
    static Map<String, Object> around(Path trace, Callable<Map<String, Object>> run) throws Exception {
        try (Profiler profiler = Profiler.start()) {
            Map<String, Object> metrics;
            try {
                metrics = run.call();
            } catch (Interrupt.Stopped e) {
                write(profiler, trace);
                throw e;
            }
            write(profiler, trace);
            return metrics;
        }
    }

    private static void write(Profiler profiler, Path trace) throws java.io.IOException {
        profiler.stop();
        profiler.writeChromeTrace(trace);
        System.out.println();
        System.out.print(profiler.summary());
        System.out.println("profile: " + profiler.ops().size() + " ops; trace " + trace.toAbsolutePath()
                + " (open it in ui.perfetto.dev or chrome://tracing)");
    }
}

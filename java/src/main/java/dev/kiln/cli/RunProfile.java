package dev.kiln.cli;

import dev.kiln.Profiler;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code kiln train ... --profile FILE}: the run under Kiln's profiler, its trace written and its table printed. */
final class RunProfile {
    private RunProfile() {
    }

    static Map<String, Object> around(Path trace, Callable<Map<String, Object>> run) throws Exception {
        Map<String, Object> metrics;
        try (Profiler profiler = Profiler.start()) {
            metrics = run.call();
            profiler.stop();
            profiler.writeChromeTrace(trace);
            System.out.println();
            System.out.print(profiler.summary());
            System.out.println("profile: " + profiler.ops().size() + " ops; trace " + trace.toAbsolutePath()
                    + " (open it in ui.perfetto.dev or chrome://tracing)");
        }
        return metrics;
    }
}

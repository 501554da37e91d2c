package dev.kiln.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The benchmarks jar's entry point: says which JCuda baselines this machine cannot run and why, excludes them, and
 * hands the rest of the command line to JMH ({@code java -jar benchmarks.jar [JMH options] [regex]}).
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        List<String> jmh = new ArrayList<>(List.of(args));
        for (Baselines b : Baselines.all()) {
            String reason = b.unavailableReason();
            if (reason != null) {
                System.err.println("kiln-bench: SKIPPED " + b.benchmark + ": " + reason);
                jmh.add("-e");
                jmh.add("\\." + b.benchmark + "\\.");
            }
        }
        org.openjdk.jmh.Main.main(jmh.toArray(new String[0]));
    }
}

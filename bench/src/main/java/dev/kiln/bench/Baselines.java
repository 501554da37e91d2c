package dev.kiln.bench;

import dev.kiln.Device;

import java.util.ArrayList;
import java.util.List;

/**
 * The JCuda peers of the JMH suite and whether this machine can run them: a CUDA device Kiln sees, and the peer's
 * native libraries loading (JCuda's loader throws UnsatisfiedLinkError naming the missing library). What each needs:
 * <ul>
 *   <li>JCublas 12.6.0 (libJCublas2-12.6.0): libcublas.so.12 (the CUDA 12.x toolkit's cuBLAS) and an NVIDIA driver
 *       for CUDA 12 (525 or newer).</li>
 *   <li>JCudnn: the 11.7.0 Java jar with the 12.6.0 natives (libJCudnn-12.6.0): libcudnn.so.9 (cuDNN 9 for
 *       CUDA 12, which itself loads CUDA 12's cuBLAS for some of its engines) and the driver.</li>
 *   <li>JCuda 12.6.0 itself (libJCudaRuntime-12.6.0): cudart 12.6 linked in statically, so only the driver.</li>
 * </ul>
 */
enum Baselines {
    // The lambdas link (and so load JCuda's classes and natives) only when they first run.
    JCUBLAS("JCublasGemmBench", "JCublas2 12.6.0 (needs libcublas.so.12 and a CUDA 12 driver)",
            () -> jcuda.jcublas.JCublas2.initialize()),
    JCUDNN("JCudnnConvBench", "JCudnn 11.7.0 Java + 12.6.0 natives (needs libcudnn.so.9 and a CUDA 12 driver)",
            () -> jcuda.jcudnn.JCudnn.initialize());

    final String benchmark;
    private final String what;
    private final Runnable load;

    Baselines(String benchmark, String what, Runnable load) {
        this.benchmark = benchmark;
        this.what = what;
        this.load = load;
    }

    static List<Baselines> all() {
        return List.of(values());
    }

    /** Why this peer cannot run here (every reason: the device and the natives), or null when it can. */
    String unavailableReason() {
        List<String> reasons = new ArrayList<>();
        if (!Device.cudaAvailable()) reasons.add("no CUDA device (" + Device.cudaUnavailableReason() + ")");
        try {
            load.run();
        } catch (Throwable t) {  // UnsatisfiedLinkError from JCuda's LibUtils, or a CudaException
            reasons.add(what + " did not load: " + rootCause(String.valueOf(t.getMessage())));
        }
        return reasons.isEmpty() ? null : String.join("; ", reasons);
    }

    /**
     * JCuda's load failure is a page of nested stack traces; the line that matters names the library the JNI library
     * itself could not find ("libcublas.so.12: cannot open shared object file").
     */
    private static String rootCause(String message) {
        for (String line : message.split("\n")) {
            if (line.contains("cannot open shared object file") || line.contains("undefined symbol")) {
                int so = line.indexOf(".so: ");
                return so < 0 ? line.trim() : line.substring(so + 5).trim();
            }
        }
        int end = message.indexOf('\n');
        return end < 0 ? message : message.substring(0, end);
    }

    /** For a benchmark's setup: run by JMH's own Main (no BenchMain to skip it), fail with the reason. */
    void require() {
        String reason = unavailableReason();
        if (reason != null) throw new IllegalStateException("SKIPPED " + benchmark + ": " + reason);
    }
}

package dev.kiln.internal;

import dev.kiln.Device;

/**
 * Where a profiler listens to native calls. Every op crosses JNI through a {@link Call}; while a {@link Sink} is
 * installed, the call times itself and reports when it returns. With none installed (the normal case), a call pays
 * one volatile read. Not public API: {@code dev.kiln.Profiler} installs the sink.
 */
public final class OpHooks {
    private static volatile Sink sink;

    private OpHooks() {
    }

    /** What a call reports once its native entry has returned. */
    public interface Sink {
        /** Before the native call, on the calling thread: device timing must be on before the op is queued. */
        void beforeOp(Device device);

        /**
         * {@code op} is the binding's name ("conv2d forward"); {@code entry} and {@code path} are what the library says
         * ran ("kiln_conv2d_forward_f32", "winograd"); {@code args} names each tensor argument with its shape.
         */
        void op(String op, String entry, String path, boolean deviceTimed, Device device, String args,
                long startNanos, long endNanos, long flops, long bytes);
    }

    /** Installs {@code s}; refused while another is installed (one profiler records at a time). */
    public static synchronized void install(Sink s) {
        if (sink != null) throw new IllegalStateException("a Profiler is already recording; stop it first");
        NativeLibrary.ensureLoaded();
        sink = s;
    }

    /** Removes {@code s} if it is the one installed. */
    public static synchronized void uninstall(Sink s) {
        if (sink == s) sink = null;
    }

    static Sink active() {
        return sink;
    }
}

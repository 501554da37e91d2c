package dev.kiln.internal;

import dev.kiln.Device;

/**
 * Binding of the CUDA graph entries (native/src/jni/jni_graph.cpp): capture of a device's stream, replay and release
 * of the captured graph. dev.kiln.CudaGraph builds its public API on these. Not public API.
 */
public final class GraphNative {
    private GraphNative() {
    }

    /** Starts capturing what this thread queues on {@code device}'s stream; a cpu device is refused by the library. */
    public static void captureBegin(Device device) {
        NativeLibrary.ensureLoaded();
        captureBegin0(Contexts.of(device));
    }

    /** Ends the capture and returns the graph's handle; on failure the capture is ended and discarded. */
    public static long captureEnd(Device device) {
        return captureEnd0(Contexts.of(device));
    }

    public static void launch(long graph) {
        if (graph == 0) throw new IllegalStateException("CudaGraph.replay: the graph is closed");
        launch0(graph);
    }

    public static void destroy(long graph) {
        if (graph != 0) destroy0(graph);
    }

    /** Whether the library reports {@code device}'s context capturing (false for a device Kiln has not used). */
    public static boolean isCapturing(Device device) {
        NativeLibrary.ensureLoaded();
        return isCapturing0(Contexts.of(device));
    }

    // ---- natives (registered by JNI_OnLoad from native/src/jni/jni_graph.cpp) -----------------------------------

    private static native void captureBegin0(long ctx);
    private static native long captureEnd0(long ctx);
    private static native void launch0(long graph);
    private static native void destroy0(long graph);
    private static native boolean isCapturing0(long ctx);
}

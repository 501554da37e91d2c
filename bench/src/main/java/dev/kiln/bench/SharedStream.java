package dev.kiln.bench;

import dev.kiln.Device;
import dev.kiln.interop.JCudaInterop;
import jcuda.runtime.JCuda;
import jcuda.runtime.cudaStream_t;

/**
 * One CUDA stream that Kiln and a JCuda peer both queue on (JCudaInterop.useStream), so that each benchmark call ends
 * with the same wait for the same stream and neither side is timed with the other's work in flight. Create it in the
 * trial setup, before any Kiln tensor on the device (each JMH fork is a fresh JVM). The stream lives as long as the JVM:
 * Kiln's context keeps it.
 */
final class SharedStream {
    final cudaStream_t stream = new cudaStream_t();
    private final boolean shared;

    SharedStream(Device device) {
        JCuda.setExceptionsEnabled(true);
        JCuda.cudaSetDevice(device.index());
        JCuda.cudaStreamCreate(stream);
        boolean bound = true;
        try {
            JCudaInterop.useStream(device, stream);
        } catch (IllegalStateException e) {  // Kiln already ran on the device in this JVM (-f 0): wait for both streams
            System.err.println("kiln-bench: " + e.getMessage() + "; synchronizing the whole device instead");
            bound = false;
        }
        shared = bound;
    }

    void synchronize() {
        if (shared) JCuda.cudaStreamSynchronize(stream);
        else JCuda.cudaDeviceSynchronize();  // one primary context: this waits for Kiln's stream too
    }
}

package dev.kiln.internal;

import dev.kiln.Device;

import java.util.concurrent.ConcurrentHashMap;

/**
 * One native context per device, created on first use and kept for the life of the JVM (tensors freed by the
 * Cleaner late in shutdown still need it). Not public API.
 */
public final class Contexts {
    private static final ConcurrentHashMap<Device, Long> HANDLES = new ConcurrentHashMap<>();

    private Contexts() {
    }

    /** The context handle of {@code device}, creating it on first use. */
    public static long of(Device device) {
        Long handle = HANDLES.get(device);
        if (handle != null) return handle;
        return HANDLES.computeIfAbsent(device, RuntimeNative::contextCreate);
    }

    /**
     * Makes the context of {@code device} one on the caller's CUDA stream ({@code cudaStream_t} as an address).
     * Only before Kiln has used the device: its memory is stream-ordered on the first context's stream, and a tensor
     * made there and then used on another stream could be reused by the allocator while that stream still reads it.
     */
    public static void bindStream(Device device, long stream) {
        if (!device.isCuda()) throw new IllegalArgumentException("useStream: " + device + " has no CUDA stream; pass a cuda device");
        boolean[] created = {false};
        HANDLES.computeIfAbsent(device, d -> {
            created[0] = true;
            return InteropNative.contextOnStream(d, stream);
        });
        if (!created[0]) {
            throw new IllegalStateException("useStream: Kiln has already used " + device + " on a stream of its own; "
                    + "bind the caller's stream before the first tensor or op on that device");
        }
    }
}

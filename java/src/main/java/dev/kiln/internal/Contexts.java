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
}

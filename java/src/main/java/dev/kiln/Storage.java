package dev.kiln;

import dev.kiln.internal.Contexts;
import dev.kiln.internal.RuntimeNative;

import java.util.concurrent.atomic.AtomicInteger;

/** A native buffer shared by a tensor and its views; freed when the last tensor referring to it is released. */
final class Storage {
    final Device device;
    final long context;
    final long address;
    final long bytes;
    private final AtomicInteger refs = new AtomicInteger(1);

    Storage(Device device, long bytes) {
        this.device = device;
        this.context = Contexts.of(device);
        this.bytes = bytes;
        this.address = RuntimeNative.alloc(context, bytes);
    }

    void retain() {
        refs.incrementAndGet();
    }

    void release() {
        if (refs.decrementAndGet() == 0) RuntimeNative.free(context, address);
    }
}

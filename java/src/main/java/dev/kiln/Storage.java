package dev.kiln;

import dev.kiln.internal.Contexts;
import dev.kiln.internal.RuntimeNative;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A native buffer shared by a tensor and its views. Kiln's own memory comes from the device's allocator and is freed
 * when the last tensor referring to it is released; external memory (a caller's device pointer or direct buffer,
 * see dev.kiln.interop) is never freed by Kiln, and {@code keepAlive} (a direct buffer, say) stays reachable until then.
 */
final class Storage {
    final Device device;
    final long context;
    final long address;
    final long bytes;
    private final boolean owned;
    @SuppressWarnings("unused")  // held, never read: its reachability is the point
    private final Object keepAlive;
    private final AtomicInteger refs = new AtomicInteger(1);
    // Bumped by every in-place write (the ops ending in _, copyFrom, optimizer steps), shared by all views: a recorded
    // backward compares it with the version it saw, so it never reads values changed after its forward. Plain int:
    // a graph lives on one thread, and a write from another thread during its backward is a race in any case.
    private int version;

    Storage(Device device, long bytes) {
        this.device = device;
        this.context = Contexts.of(device);
        this.bytes = bytes;
        this.address = RuntimeNative.alloc(context, bytes);
        this.owned = true;
        this.keepAlive = null;
    }

    /** Memory the caller owns: Kiln reads and writes it through tensors but never frees it. */
    private Storage(Device device, long address, long bytes, Object keepAlive) {
        this.device = device;
        this.context = Contexts.of(device);
        this.bytes = bytes;
        this.address = address;
        this.owned = false;
        this.keepAlive = keepAlive;
    }

    static Storage external(Device device, long address, long bytes, Object keepAlive) {
        return new Storage(device, address, bytes, keepAlive);
    }

    int version() {
        return version;
    }

    void bumpVersion() {
        version++;
    }

    /**
     * Runs a host-to-device copy into this memory and counts it as an in-place write (autograd's version check). A
     * copy refused before it writes anything (bad range, dtype or size: IllegalArgumentException) is not counted, so
     * a caller that catches the refusal can still run backward through the tensor.
     */
    void writing(Runnable copy) {
        boolean refused = false;
        try {
            copy.run();
        } catch (IllegalArgumentException e) {
            refused = true;
            throw e;
        } finally {
            if (!refused) bumpVersion();
        }
    }

    void retain() {
        refs.incrementAndGet();
    }

    void release() {
        if (refs.decrementAndGet() == 0 && owned) RuntimeNative.free(context, address);
    }
}

package dev.kiln.ops;

/**
 * While open, ops on this thread record nothing on the autograd tape. From {@link Autograd#noGrad()}; closing it
 * throws no checked exception, so {@code try (var off = Autograd.noGrad()) { ... }} needs no catch. Idempotent.
 */
public final class NoGrad implements AutoCloseable {
    private final Runnable release;
    private boolean closed;

    NoGrad(Runnable release) {
        this.release = release;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        release.run();
    }
}

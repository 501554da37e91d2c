package dev.kiln.ops;

/**
 * While open, this thread checks every op's outputs and every gradient for NaN and infinity (see
 * {@link Autograd#detectAnomaly()}); closing restores the previous setting. Idempotent; throws no checked exception.
 */
public final class AnomalyMode implements AutoCloseable {
    private final Runnable restore;
    private boolean closed;

    AnomalyMode(Runnable restore) {
        this.restore = restore;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        restore.run();
    }
}

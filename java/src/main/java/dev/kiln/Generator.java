package dev.kiln;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A Philox4x32-10 stream: a seed and an offset. Each draw of n values reserves ceil(n/4) Philox counters, so the
 * same seed and the same sequence of draws give bit-identical tensors on the CPU and on any GPU. Thread-safe.
 */
public final class Generator {
    private final long seed;
    private final AtomicLong offset;

    /** A stream at {@code seed}, starting at offset 0. */
    public Generator(long seed) {
        this(seed, 0);
    }

    /** A stream at {@code seed}, starting at counter {@code offset} (as a checkpoint saved it). */
    public Generator(long seed, long offset) {
        this.seed = seed;
        this.offset = new AtomicLong(offset);
    }

    /** The seed, fixed for this generator's life. */
    public long seed() {
        return seed;
    }

    /** The counter the next draw starts at. */
    public long offset() {
        return offset.get();
    }

    /**
     * Moves the stream to {@code offset}, as a checkpoint saved it: a resumed run then draws exactly what the
     * uninterrupted run would have drawn next.
     */
    public void setOffset(long offset) {
        if (offset < 0) throw new IllegalArgumentException("Generator.setOffset: offset must be >= 0, got " + offset);
        this.offset.set(offset);
    }

    /** Reserves the counters for {@code n} values and returns the first one. */
    public long reserve(long n) {
        if (n < 0) throw new IllegalArgumentException("Generator.reserve: n must be >= 0, got " + n);
        return offset.getAndAdd((n + 3) / 4);
    }

    @Override
    public String toString() {
        return "Generator(seed=" + seed + ", offset=" + offset.get() + ")";
    }
}

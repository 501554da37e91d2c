package dev.kiln.nn;

import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

/**
 * The keys and values one self-attention layer has computed so far while decoding, so that each new token costs one
 * projection and one attention over the cached keys, O(T), instead of re-running the whole prefix, O(T^2). Holds a
 * (batch, capacity, 2, heads, headDim) tensor, the layout {@link Ops#crossAttention} reads, and the number of
 * positions filled (the same for every sequence: a batch decodes in lockstep). Close it when decoding ends.
 */
public final class KvCache implements AutoCloseable {
    private final Tensor keysValues;
    private final int capacity;
    private int length;

    /**
     * An empty cache of {@code capacity} positions for {@code batch} sequences on {@code device}, zeroed; its buffer
     * lives outside any scope until {@link #close()}.
     */
    public KvCache(Device device, int batch, int capacity, int heads, int headDim) {
        if (batch <= 0 || capacity <= 0 || heads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("KvCache: sizes must be positive, got batch=" + batch + " capacity=" + capacity
                    + " heads=" + heads + " headDim=" + headDim);
        }
        this.capacity = capacity;
        // Zeroed: positions not yet written are masked out by the key lengths, but must not hold NaN garbage either.
        this.keysValues = Scope.detached(() -> Tensor.zeros(device, batch, capacity, 2, heads, headDim));
    }

    /** Positions filled so far. */
    public int length() {
        return length;
    }

    /** Positions the cache can hold. */
    public int capacity() {
        return capacity;
    }

    /** The whole buffer; only the first {@link #length()} positions are valid. */
    public Tensor keysValues() {
        return keysValues;
    }

    /** Stores one step's keys and values, (batch, steps, 2, heads, headDim), after those already cached. */
    public void append(Tensor kv) {
        int steps = kv.dim(1);
        if (length + steps > capacity) {
            throw new IllegalStateException("KvCache: " + steps + " more positions would pass the capacity " + capacity
                    + " (" + length + " filled)");
        }
        Ops.copyInto_(keysValues, 1, length, kv);
        length += steps;
    }

    @Override
    public void close() {
        keysValues.close();
    }
}

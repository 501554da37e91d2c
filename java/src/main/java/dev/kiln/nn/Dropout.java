package dev.kiln.nn;

import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

/** Dropout with probability p in training mode, the identity in eval mode; masks come from a Philox generator. */
public final class Dropout extends Layer {
    private final float p;
    private final Generator generator;

    /** Drops with probability {@code p}, in [0, 1), drawing each mask from {@code generator} (not null). */
    public Dropout(float p, Generator generator) {
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException("Dropout: p must be in [0, 1), got " + p);
        if (generator == null) throw new IllegalArgumentException("Dropout: the generator is null (the masks are drawn from it)");
        this.p = p;
        this.generator = generator;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Ops.dropout(x, p, generator, isTraining());
    }

    @Override
    public String toString() {
        return "Dropout(" + p + ")";
    }
}

package dev.kiln.nn;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

/**
 * A lookup table: token ids (int32, any shape) to rows of "weight" (vocab, dim), initialized N(0, std) (PyTorch's
 * default std is 1; Transformers usually take 0.02 or 1/sqrt(dim)). Its gradient adds the rows of repeated ids in a
 * fixed order, so training is deterministic.
 */
public final class Embedding extends Layer {
    private final int vocab;
    private final int dim;
    private final Tensor weight;

    /** {@code vocab} rows of {@code dim} values (both positive) on {@code device}, drawn N(0, std) from {@code g}. */
    public Embedding(int vocab, int dim, float std, Device device, Generator g) {
        if (vocab <= 0 || dim <= 0) throw new IllegalArgumentException("Embedding: sizes must be positive, got vocab=" + vocab + " dim=" + dim);
        this.vocab = vocab;
        this.dim = dim;
        weight = registerParameter("weight", () -> Init.normal(Tensor.empty(device, vocab, dim), 0f, std, g));
    }

    /** The table parameter (vocab, dim), live. */
    public Tensor weight() {
        return weight;
    }

    /** Number of rows: ids must be below it. */
    public int vocab() {
        return vocab;
    }

    /** ids is int32 (...) with values in [0, vocab); the result is (..., dim). */
    @Override
    public Tensor forward(Tensor ids) {
        if (ids == null || ids.isClosed() || ids.dtype() != DType.I32) {
            throw new IllegalArgumentException("Embedding(" + vocab + ", " + dim + "): ids must be an open int32 tensor, got " + ids);
        }
        return Ops.embedding(ids, weight);
    }

    @Override
    public String toString() {
        return "Embedding(" + vocab + ", " + dim + ")";
    }
}

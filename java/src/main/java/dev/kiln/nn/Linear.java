package dev.kiln.nn;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

/**
 * y = x W^T + b with W (out, in) and b (out). Initialized as PyTorch does by default (uniform in +-1/sqrt(in) for
 * both), so training recipes carry over.
 */
public final class Linear extends Layer {
    private final Tensor weight;
    private final Tensor bias;
    private final int in;
    private final int out;

    /** {@code in} to {@code out} features with a bias, on {@code device}, initialized from {@code g}. */
    public Linear(int in, int out, Device device, Generator g) {
        this(in, out, true, device, g);
    }

    /** {@code in} to {@code out} features, with a bias only when {@code withBias}. */
    public Linear(int in, int out, boolean withBias, Device device, Generator g) {
        if (in <= 0 || out <= 0) throw new IllegalArgumentException("Linear: sizes must be positive, got in=" + in + " out=" + out);
        this.in = in;
        this.out = out;
        float bound = (float) (1.0 / Math.sqrt(in));
        weight = registerParameter("weight", () -> Init.uniform(Tensor.empty(device, out, in), -bound, bound, g));
        bias = withBias ? registerParameter("bias", () -> Init.uniform(Tensor.empty(device, out), -bound, bound, g)) : null;
    }

    /** The weight parameter W (out, in), live. */
    public Tensor weight() {
        return weight;
    }

    /** The bias parameter b (out), live, or null without one. */
    public Tensor bias() {
        return bias;
    }

    /** x is (..., in); the result is (..., out). */
    @Override
    public Tensor forward(Tensor x) {
        if (x == null || x.isClosed() || x.rank() < 1 || x.dim(-1) != in) {
            throw new IllegalArgumentException("Linear(" + in + " -> " + out + "): input must end in dimension " + in + ", got " + x);
        }
        return Ops.linear(x, weight, bias);
    }

    @Override
    public String toString() {
        return "Linear(" + in + " -> " + out + (bias == null ? ", no bias" : "") + ")";
    }
}

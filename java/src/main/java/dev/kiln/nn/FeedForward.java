package dev.kiln.nn;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

/**
 * The Transformer's position-wise feed-forward block: "linear1" (E -> F), GELU, "linear1"'s bias added in the same
 * fused kernel as the GELU (one pass over the (N, T, F) activations instead of two), then "linear2" (F -> E).
 */
public final class FeedForward extends Layer {
    private final Linear linear1;
    private final Linear linear2;

    /** E = {@code dModel} to F = {@code hidden} and back, on {@code device}, initialized from {@code g}. */
    public FeedForward(int dModel, int hidden, Device device, Generator g) {
        linear1 = registerModule("linear1", new Linear(dModel, hidden, device, g));
        linear2 = registerModule("linear2", new Linear(hidden, dModel, device, g));
    }

    /** x is (..., E); so is the result. */
    @Override
    public Tensor forward(Tensor x) {
        Tensor h = Ops.linear(x, linear1.weight(), null);
        return linear2.forward(Ops.biasGelu(h, linear1.bias()));
    }

    @Override
    public String toString() {
        return "FeedForward(" + linear1 + ", GELU, " + linear2 + ")";
    }
}

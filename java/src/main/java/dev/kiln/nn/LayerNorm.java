package dev.kiln.nn;

import dev.kiln.Device;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

/** Layer normalization over the last dimension with a learned scale ("weight", ones) and shift ("bias", zeros). */
public final class LayerNorm extends Layer {
    private final int features;
    private final float eps;
    private final Tensor weight;
    private final Tensor bias;

    /** Normalizes over {@code features} on {@code device}, with eps 1e-5. */
    public LayerNorm(int features, Device device) {
        this(features, 1e-5f, device);
    }

    /** Normalizes over {@code features}, adding {@code eps} (positive) to the variance. */
    public LayerNorm(int features, float eps, Device device) {
        if (features <= 0) throw new IllegalArgumentException("LayerNorm: features must be positive, got " + features);
        if (!(eps > 0f)) throw new IllegalArgumentException("LayerNorm: eps must be positive, got " + eps);
        this.features = features;
        this.eps = eps;
        weight = registerParameter("weight", () -> Tensor.ones(device, features));
        bias = registerParameter("bias", () -> Tensor.zeros(device, features));
    }

    /** x is (..., features); so is the result. */
    @Override
    public Tensor forward(Tensor x) {
        if (x == null || x.isClosed() || x.rank() < 1 || x.dim(-1) != features) {
            throw new IllegalArgumentException("LayerNorm(" + features + "): input must end in dimension " + features + ", got " + x);
        }
        return Ops.layerNorm(x, weight, bias, eps);
    }

    @Override
    public String toString() {
        return "LayerNorm(" + features + ")";
    }
}

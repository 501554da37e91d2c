package dev.kiln.nn;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

/**
 * 2-D convolution layer over (N, C, H, W): weight (K, C, R, S) and optional bias (K), initialized as PyTorch does
 * by default (uniform in +-1/sqrt(C R S)).
 */
public final class Conv2d extends Layer {
    private final Tensor weight;
    private final Tensor bias;
    private final int[] stride;
    private final int[] padding;
    private final int[] dilation;

    /** {@code in} to {@code out} channels with a square kernel, stride 1, no padding, and a bias. */
    public Conv2d(int in, int out, int kernel, Device device, Generator g) {
        this(in, out, new int[] {kernel, kernel}, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1}, true, device, g);
    }

    /**
     * {@code in} to {@code out} channels with a square kernel and the same stride and padding in both directions, and a
     * bias.
     */
    public Conv2d(int in, int out, int kernel, int stride, int padding, Device device, Generator g) {
        this(in, out, new int[] {kernel, kernel}, new int[] {stride, stride}, new int[] {padding, padding},
                new int[] {1, 1}, true, device, g);
    }

    /** The general form: kernel, stride, padding and dilation as {h, w}, and a bias only when {@code withBias}. */
    public Conv2d(int in, int out, int[] kernel, int[] stride, int[] padding, int[] dilation, boolean withBias,
                  Device device, Generator g) {
        if (in <= 0 || out <= 0 || kernel[0] <= 0 || kernel[1] <= 0) {
            throw new IllegalArgumentException("Conv2d: channels and kernel must be positive, got in=" + in + " out=" + out
                    + " kernel=" + kernel[0] + "x" + kernel[1]);
        }
        this.stride = stride.clone();
        this.padding = padding.clone();
        this.dilation = dilation.clone();
        float bound = (float) (1.0 / Math.sqrt((double) in * kernel[0] * kernel[1]));
        weight = registerParameter("weight", () -> Init.uniform(Tensor.empty(device, out, in, kernel[0], kernel[1]), -bound, bound, g));
        bias = withBias ? registerParameter("bias", () -> Init.uniform(Tensor.empty(device, out), -bound, bound, g)) : null;
    }

    /** The weight parameter (K, C, R, S), live. */
    public Tensor weight() {
        return weight;
    }

    /** The bias parameter (K), live, or null without one. */
    public Tensor bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Ops.conv2d(x, weight, bias, stride, padding, dilation);
    }

    @Override
    public String toString() {
        int[] w = weight.shape();
        return "Conv2d(" + w[1] + " -> " + w[0] + ", " + w[2] + "x" + w[3]
                + (stride[0] != 1 || stride[1] != 1 ? ", stride " + stride[0] : "")
                + (padding[0] != 0 || padding[1] != 0 ? ", padding " + padding[0] : "")
                + (dilation[0] != 1 || dilation[1] != 1 ? ", dilation " + dilation[0] : "") + ")";
    }
}

package dev.kiln.nn;

import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

/** Max or average pooling over (N, C, H, W) with a square window. */
public final class Pool2d extends Layer {
    private final boolean max;
    private final int kernel;
    private final int stride;
    private final int padding;

    private Pool2d(boolean max, int kernel, int stride, int padding) {
        this.max = max;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    /** MaxPool2d with stride = kernel. */
    public static Pool2d max(int kernel) {
        return new Pool2d(true, kernel, kernel, 0);
    }

    /** MaxPool2d with the given window, stride and padding. */
    public static Pool2d max(int kernel, int stride, int padding) {
        return new Pool2d(true, kernel, stride, padding);
    }

    /** AvgPool2d with stride = kernel (padding, if any, counts in the average, as PyTorch's default). */
    public static Pool2d avg(int kernel) {
        return new Pool2d(false, kernel, kernel, 0);
    }

    /** AvgPool2d with the given window, stride and padding (padding counts in the average, as PyTorch's default). */
    public static Pool2d avg(int kernel, int stride, int padding) {
        return new Pool2d(false, kernel, stride, padding);
    }

    @Override
    public Tensor forward(Tensor x) {
        return max ? Ops.maxPool2d(x, kernel, stride, padding) : Ops.avgPool2d(x, kernel, stride, padding, true);
    }

    @Override
    public String toString() {
        return (max ? "MaxPool2d(" : "AvgPool2d(") + kernel + (stride != kernel ? ", stride " + stride : "")
                + (padding != 0 ? ", padding " + padding : "") + ")";
    }
}

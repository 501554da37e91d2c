package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Tensor;
import dev.kiln.internal.Pool2dDesc;
import dev.kiln.internal.PoolNative;

/** 2-D max and average pooling over NCHW tensors, forward and backward. */
final class PoolOps {
    private PoolOps() {
    }

    /** The pooling of x (N, C, H, W) with this window: (N, C, P, Q). */
    private static Pool2dDesc desc(String op, Tensor x, int[] kernel, int[] stride, int[] padding) {
        Checks.f32(op, "x", x);
        if (x.rank() != 4) throw new IllegalArgumentException(op + ": expected x (N, C, H, W), got " + Checks.shape(x));
        for (int i = 0; i < 2; i++) {
            if (kernel[i] < 1 || stride[i] < 1 || padding[i] < 0 || 2 * padding[i] > kernel[i]) {
                throw new IllegalArgumentException(op + ": needs kernel >= 1, stride >= 1 and 0 <= padding <= kernel/2; got kernel "
                        + kernel[0] + "x" + kernel[1] + ", stride " + stride[0] + "x" + stride[1] + ", padding "
                        + padding[0] + "x" + padding[1]);
            }
        }
        int p = Conv2dOps.outSize(op, x.dim(2), padding[0], 1, kernel[0], stride[0]);
        int q = Conv2dOps.outSize(op, x.dim(3), padding[1], 1, kernel[1], stride[1]);
        return new Pool2dDesc(x.dim(0), x.dim(1), x.dim(2), x.dim(3), kernel[0], kernel[1], stride[0], stride[1],
                padding[0], padding[1], p, q);
    }

    private static void pairs(String op, int[] kernel, int[] stride, int[] padding) {
        Checks.pair(op, "kernel", kernel);
        Checks.pair(op, "stride", stride);
        Checks.pair(op, "padding", padding);
    }

    private static int[] outShape(Tensor x, Pool2dDesc d) {
        return new int[] {x.dim(0), x.dim(1), Math.toIntExact(d.p()), Math.toIntExact(d.q())};
    }

    /** Max pooling of x (N, C, H, W) with a square window. */
    @Op
    static Tensor maxPool2d(Tensor x, int kernel, int stride, int padding) {
        return maxPool2d(x, new int[] {kernel, kernel}, new int[] {stride, stride}, new int[] {padding, padding});
    }

    /** Max pooling of x (N, C, H, W) with a {h, w} window, stride and padding. */
    @Op
    static Tensor maxPool2d(Tensor x, int[] kernel, int[] stride, int[] padding) {
        pairs("max_pool2d", kernel, stride, padding);
        Pool2dDesc d = desc("max_pool2d", x, kernel, stride, padding);
        int[] shape = x.shape(), out = outShape(x, d);
        Tensor y = Tensor.empty(x.device(), out);
        Tensor index = Tensor.empty(x.device(), DType.I32, out);
        PoolNative.maxPool2d(d, x, y, index);
        return Autograd.record("max_pool2d", y, dy -> {
            Tensor dx = Tensor.empty(dy.device(), shape);
            PoolNative.maxPool2dBackward(d, dy, index, dx);
            return new Tensor[] {dx};
        }, x);
    }

    /** Average pooling of x (N, C, H, W); countIncludePad divides by the full window at the borders. */
    @Op
    static Tensor avgPool2d(Tensor x, int kernel, int stride, int padding, boolean countIncludePad) {
        return avgPool2d(x, new int[] {kernel, kernel}, new int[] {stride, stride}, new int[] {padding, padding},
                countIncludePad);
    }

    /** Average pooling with a {h, w} window, stride and padding (a non-square window, or different strides). */
    @Op
    static Tensor avgPool2d(Tensor x, int[] kernel, int[] stride, int[] padding, boolean countIncludePad) {
        pairs("avg_pool2d", kernel, stride, padding);
        Pool2dDesc d = desc("avg_pool2d", x, kernel, stride, padding);
        int[] shape = x.shape();
        Tensor y = Tensor.empty(x.device(), outShape(x, d));
        PoolNative.avgPool2d(d, x, y, countIncludePad);
        return Autograd.record("avg_pool2d", y, dy -> {
            Tensor dx = Tensor.empty(dy.device(), shape);
            PoolNative.avgPool2dBackward(d, dy, dx, countIncludePad);
            return new Tensor[] {dx};
        }, x);
    }
}

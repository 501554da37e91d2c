package dev.kiln.ops;

import dev.kiln.Tensor;
import dev.kiln.internal.Conv2dDesc;
import dev.kiln.internal.Conv2dNative;

/** 2-D convolution over NCHW tensors, forward and backward. */
final class Conv2dOps {
    private Conv2dOps() {
    }

    /** Output size of a window sweep: (in + 2 pad - dilation (kernel - 1) - 1) / stride + 1, refused when empty. */
    static int outSize(String op, int in, int pad, int dilation, int kernel, int stride) {
        long span = (long) dilation * (kernel - 1) + 1;
        long padded = in + 2L * pad;
        if (padded < span) {
            throw new IllegalArgumentException(op + ": input size " + in + " with padding " + pad + " is smaller than the "
                    + (dilation > 1 ? "dilated " : "") + "window " + span);
        }
        long out = (padded - span) / stride + 1;
        if (out > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": output size " + out + " (input " + in + ", padding " + pad + ", window "
                    + span + ", stride " + stride + ") does not fit a dimension (at most " + Integer.MAX_VALUE + ")");
        }
        return (int) out;
    }

    private static void checkGeometry(String op, int[] stride, int[] padding, int[] dilation) {
        for (int i = 0; i < 2; i++) {
            if (stride[i] < 1 || dilation[i] < 1 || padding[i] < 0) {
                throw new IllegalArgumentException(op + ": needs stride >= 1, dilation >= 1, padding >= 0; got stride "
                        + stride[0] + "x" + stride[1] + ", padding " + padding[0] + "x" + padding[1] + ", dilation "
                        + dilation[0] + "x" + dilation[1]);
            }
        }
    }

    /** 2-D convolution with the same stride and padding in both directions, no dilation. */
    @Op
    static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        return conv2d(x, weight, bias, new int[] {stride, stride}, new int[] {padding, padding}, new int[] {1, 1});
    }

    /** 2-D convolution: x (N, C, H, W), weight (K, C, R, S), bias (K) or null; stride, padding, dilation as {h, w}. */
    @Op
    static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, int[] dilation) {
        String op = "conv2d";
        Checks.pair(op, "stride", stride);
        Checks.pair(op, "padding", padding);
        Checks.pair(op, "dilation", dilation);
        Checks.f32(op, "x", x);
        Checks.f32(op, "weight", weight);
        Checks.sameDevice(op, x, weight);
        checkGeometry(op, stride, padding, dilation);
        if (x.rank() != 4 || weight.rank() != 4 || weight.dim(1) != x.dim(1)) {
            throw new IllegalArgumentException(op + ": expected x (N, C, H, W) and weight (K, C, R, S) with the same C, got x "
                    + Checks.shape(x) + " and weight " + Checks.shape(weight));
        }
        if (bias != null) {
            Checks.f32(op, "bias", bias);
            Checks.sameDevice(op, x, bias);
            if (bias.rank() != 1 || bias.dim(0) != weight.dim(0)) {
                throw new IllegalArgumentException(op + ": bias must be (" + weight.dim(0) + ",), got " + Checks.shape(bias));
            }
        }
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
        int k = weight.dim(0), r = weight.dim(2), s = weight.dim(3);
        int p = outSize(op, h, padding[0], dilation[0], r, stride[0]);
        int q = outSize(op, wd, padding[1], dilation[1], s, stride[1]);
        Conv2dDesc desc = new Conv2dDesc(n, c, h, wd, k, r, s, stride[0], stride[1], padding[0], padding[1],
                dilation[0], dilation[1], p, q);
        Tensor y = Tensor.empty(x.device(), n, k, p, q);
        Conv2dNative.forward(desc, x, weight, bias, y);
        return Autograd.record(op, y, dy -> {
            Tensor dx = null, dw = null, db = null;
            if (Autograd.isTracked(x)) {
                dx = Tensor.empty(x.device(), n, c, h, wd);
                Conv2dNative.backwardData(desc, dy, weight, dx);
            }
            if (Autograd.isTracked(weight) || (bias != null && Autograd.isTracked(bias))) {
                dw = Tensor.empty(x.device(), k, c, r, s);
                db = bias == null ? null : Tensor.empty(x.device(), k);
                Conv2dNative.backwardWeight(desc, x, dy, dw, db);
            }
            return new Tensor[] {dx, dw, db};
        }, x, weight, bias);
    }
}

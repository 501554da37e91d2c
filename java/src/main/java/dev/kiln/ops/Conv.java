package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Tensor;
import dev.kiln.internal.Native;

/** 2-D convolution and pooling over NCHW tensors, forward and backward. */
final class Conv {
    private Conv() {
    }

    private static int outSize(String op, int in, int pad, int dilation, int kernel, int stride) {
        int span = dilation * (kernel - 1) + 1;
        int out = (in + 2 * pad - span) / stride + 1;
        if (in + 2 * pad < span || out <= 0) {
            throw new IllegalArgumentException(op + ": input size " + in + " with padding " + pad + " is smaller than the "
                    + (dilation > 1 ? "dilated " : "") + "window " + span);
        }
        return out;
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

    /** x (N, C, H, W), w (K, C, R, S), bias (K) or null -> (N, K, P, Q). */
    static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int[] stride, int[] padding, int[] dilation) {
        String op = "conv2d";
        Checks.f32(op, "x", x);
        Checks.f32(op, "weight", w);
        Checks.sameDevice(op, x, w);
        checkGeometry(op, stride, padding, dilation);
        if (x.rank() != 4 || w.rank() != 4 || w.dim(1) != x.dim(1)) {
            throw new IllegalArgumentException(op + ": expected x (N, C, H, W) and weight (K, C, R, S) with the same C, got x "
                    + Checks.shape(x) + " and weight " + Checks.shape(w));
        }
        if (bias != null) {
            Checks.f32(op, "bias", bias);
            Checks.sameDevice(op, x, bias);
            if (bias.rank() != 1 || bias.dim(0) != w.dim(0)) {
                throw new IllegalArgumentException(op + ": bias must be (" + w.dim(0) + ",), got " + Checks.shape(bias));
            }
        }
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3), k = w.dim(0), r = w.dim(2), s = w.dim(3);
        int p = outSize(op, h, padding[0], dilation[0], r, stride[0]);
        int q = outSize(op, wd, padding[1], dilation[1], s, stride[1]);
        long[] desc = {n, c, h, wd, k, r, s, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], p, q};
        Tensor y = Tensor.empty(x.device(), n, k, p, q);
        Native.conv2dForward(Checks.ctx(y), desc, x.address(), w.address(), bias == null ? 0 : bias.address(), y.address());
        return Autograd.record(op, y, dy -> {
            Tensor dx = null, dw = null, db = null;
            if (Autograd.isTracked(x)) {
                dx = Tensor.empty(x.device(), x.shape());
                Native.conv2dBackwardData(Checks.ctx(dx), desc, dy.address(), w.address(), dx.address());
            }
            if (Autograd.isTracked(w) || (bias != null && Autograd.isTracked(bias))) {
                dw = Tensor.empty(w.device(), w.shape());
                db = bias == null ? null : Tensor.empty(bias.device(), bias.shape());
                Native.conv2dBackwardWeight(Checks.ctx(dw), desc, x.address(), dy.address(), dw.address(),
                        db == null ? 0 : db.address());
            }
            return new Tensor[] {dx, dw, db};
        }, x, w, bias);
    }

    private static long[] poolDesc(String op, Tensor x, int[] kernel, int[] stride, int[] padding) {
        Checks.f32(op, "x", x);
        if (x.rank() != 4) throw new IllegalArgumentException(op + ": expected x (N, C, H, W), got " + Checks.shape(x));
        for (int i = 0; i < 2; i++) {
            if (kernel[i] < 1 || stride[i] < 1 || padding[i] < 0 || 2 * padding[i] > kernel[i]) {
                throw new IllegalArgumentException(op + ": needs kernel >= 1, stride >= 1 and 0 <= padding <= kernel/2; got kernel "
                        + kernel[0] + "x" + kernel[1] + ", stride " + stride[0] + "x" + stride[1] + ", padding "
                        + padding[0] + "x" + padding[1]);
            }
        }
        int p = outSize(op, x.dim(2), padding[0], 1, kernel[0], stride[0]);
        int q = outSize(op, x.dim(3), padding[1], 1, kernel[1], stride[1]);
        return new long[] {x.dim(0), x.dim(1), x.dim(2), x.dim(3), kernel[0], kernel[1], stride[0], stride[1],
                padding[0], padding[1], p, q};
    }

    static Tensor maxPool2d(Tensor x, int[] kernel, int[] stride, int[] padding) {
        long[] d = poolDesc("max_pool2d", x, kernel, stride, padding);
        int[] outShape = {x.dim(0), x.dim(1), (int) d[10], (int) d[11]};
        Tensor y = Tensor.empty(x.device(), outShape);
        Tensor index = Tensor.empty(x.device(), DType.I32, outShape);
        Native.maxPool2d(Checks.ctx(y), d, x.address(), y.address(), index.address());
        return Autograd.record("max_pool2d", y, dy -> {
            Tensor dx = Tensor.empty(x.device(), x.shape());
            Native.maxPool2dBackward(Checks.ctx(dx), d, dy.address(), index.address(), dx.address());
            return new Tensor[] {dx};
        }, x);
    }

    static Tensor avgPool2d(Tensor x, int[] kernel, int[] stride, int[] padding, boolean countIncludePad) {
        long[] d = poolDesc("avg_pool2d", x, kernel, stride, padding);
        Tensor y = Tensor.empty(x.device(), x.dim(0), x.dim(1), (int) d[10], (int) d[11]);
        Native.avgPool2d(Checks.ctx(y), d, x.address(), y.address(), countIncludePad);
        return Autograd.record("avg_pool2d", y, dy -> {
            Tensor dx = Tensor.empty(x.device(), x.shape());
            Native.avgPool2dBackward(Checks.ctx(dx), d, dy.address(), dx.address(), countIncludePad);
            return new Tensor[] {dx};
        }, x);
    }
}

package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Tensor;
import dev.kiln.internal.Native;

/** Sums and means over an axis or everything, max/argmax over the last axis, and (log-)softmax. */
final class Reductions {
    private Reductions() {
    }

    /** scale * sum over {@code axis}; axis == null reduces everything to a 0-dimensional tensor. */
    static Tensor sum(String op, Tensor x, Integer axis, boolean mean) {
        Checks.f32(op, "x", x);
        int[] s = x.shape();
        long outer = 1, len, inner = 1;
        int[] outShape;
        if (axis == null) {
            len = x.numel();
            outShape = new int[0];
        } else {
            int ax = axis < 0 ? axis + s.length : axis;
            if (ax < 0 || ax >= s.length) throw new IllegalArgumentException(op + ": axis " + axis + " is out of range for " + x);
            for (int i = 0; i < ax; i++) outer *= s[i];
            for (int i = ax + 1; i < s.length; i++) inner *= s[i];
            len = s[ax];
            outShape = new int[s.length - 1];
            for (int i = 0, j = 0; i < s.length; i++) if (i != ax) outShape[j++] = s[i];
        }
        if (mean && len == 0) throw new IllegalArgumentException(op + ": mean over an empty axis of " + x);
        float scale = mean ? 1f / len : 1f;
        final long o = outer, l = len, in = inner;
        Tensor y = Tensor.empty(x.device(), outShape);
        Native.reduceSum(Checks.ctx(y), x.address(), y.address(), o, l, in, scale);
        return Autograd.record(op, y, dy -> {
            Tensor dx = Tensor.empty(x.device(), x.shape());
            Native.reduceSumBackward(Checks.ctx(dx), dy.address(), dx.address(), o, l, in, scale);
            return new Tensor[] {dx};
        }, x);
    }

    /** Max over the last axis (the gradient goes to the first maximal element). */
    static Tensor max(Tensor x) {
        Checks.f32("max", "x", x);
        Checks.minRank("max", "x", x, 1);
        if (x.dim(-1) == 0) throw new IllegalArgumentException("max: last axis of " + x + " is empty");
        long rows = Checks.rows(x), cols = x.dim(-1);
        Tensor y = Tensor.empty(x.device(), Checks.dropLast(x));
        Tensor index = Tensor.empty(x.device(), DType.I32, Checks.dropLast(x));
        Native.maxLastDim(Checks.ctx(y), x.address(), y.address(), index.address(), rows, cols);
        return Autograd.record("max", y, dy -> {
            Tensor dx = Tensor.empty(x.device(), x.shape());
            Native.maxLastDimBackward(Checks.ctx(dx), dy.address(), index.address(), dx.address(), rows, cols);
            return new Tensor[] {dx};
        }, x);
    }

    /** Index of the max over the last axis, as int32 (not differentiable). */
    static Tensor argmax(Tensor x) {
        Checks.f32("argmax", "x", x);
        Checks.minRank("argmax", "x", x, 1);
        if (x.dim(-1) == 0) throw new IllegalArgumentException("argmax: last axis of " + x + " is empty");
        long rows = Checks.rows(x), cols = x.dim(-1);
        Tensor index = Tensor.empty(x.device(), DType.I32, Checks.dropLast(x));
        try (Tensor values = Tensor.empty(x.device(), Checks.dropLast(x))) {
            Native.maxLastDim(Checks.ctx(index), x.address(), values.address(), index.address(), rows, cols);
        }
        return index;
    }

    static Tensor softmax(Tensor x, boolean log) {
        String op = log ? "log_softmax" : "softmax";
        Checks.f32(op, "x", x);
        Checks.minRank(op, "x", x, 1);
        if (x.dim(-1) == 0) throw new IllegalArgumentException(op + ": last axis of " + x + " is empty");
        long rows = Checks.rows(x), cols = x.dim(-1);
        Tensor y = Tensor.empty(x.device(), x.shape());
        Native.softmax(Checks.ctx(y), x.address(), y.address(), rows, cols, log);
        return Autograd.record(op, y, dy -> {
            Tensor dx = Tensor.empty(x.device(), x.shape());
            Native.softmaxBackward(Checks.ctx(dx), y.address(), dy.address(), dx.address(), rows, cols, log);
            return new Tensor[] {dx};
        }, x);
    }
}

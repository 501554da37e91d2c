package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Tensor;
import dev.kiln.internal.ReduceNative;

import java.util.List;

/** Sums and means over an axis or everything, max/argmax over the last axis, (log-)softmax, sums of squares. */
final class ReduceOps {
    private ReduceOps() {
    }

    /** Sum of all elements, as a 0-dimensional tensor. */
    @Op
    static Tensor sum(Tensor x) {
        return reduceSum("sum", x, null, false);
    }

    /** Sum over {@code axis} (negative counts from the end); that dimension is removed. */
    @Op
    static Tensor sum(Tensor x, int axis) {
        return reduceSum("sum", x, axis, false);
    }

    /** Mean of all elements, as a 0-dimensional tensor; an empty x throws IllegalArgumentException. */
    @Op
    static Tensor mean(Tensor x) {
        return reduceSum("mean", x, null, true);
    }

    /** Mean over {@code axis} (negative counts from the end); that dimension is removed, and must not be empty. */
    @Op
    static Tensor mean(Tensor x, int axis) {
        return reduceSum("mean", x, axis, true);
    }

    /** scale * sum over {@code axis}; axis == null reduces everything to a 0-dimensional tensor. */
    private static Tensor reduceSum(String op, Tensor x, Integer axis, boolean mean) {
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
        ReduceNative.sum(x, y, o, l, in, scale);
        return Autograd.record(op, y, dy -> {
            Tensor dx = Tensor.empty(dy.device(), s);
            ReduceNative.sumBackward(dy, dx, o, l, in, scale);
            return new Tensor[] {dx};
        }, x);
    }

    /** Max over the last axis (the gradient goes to the first maximal element). */
    @Op
    static Tensor max(Tensor x) {
        Checks.f32("max", "x", x);
        Checks.minRank("max", "x", x, 1);
        if (x.dim(-1) == 0) throw new IllegalArgumentException("max: last axis of " + x + " is empty");
        long rows = Checks.rows(x), cols = x.dim(-1);
        Tensor y = Tensor.empty(x.device(), Checks.dropLast(x));
        Tensor index = Tensor.empty(x.device(), DType.I32, Checks.dropLast(x));
        int[] shape = x.shape();
        ReduceNative.maxLastDim(x, y, index, rows, cols);
        return Autograd.record("max", y, dy -> {
            Tensor dx = Tensor.empty(dy.device(), shape);
            ReduceNative.maxLastDimBackward(dy, index, dx, rows, cols);
            return new Tensor[] {dx};
        }, x);
    }

    /** Index of the max over the last axis (int32, first on ties; not differentiable). */
    @Op
    static Tensor argmax(Tensor x) {
        Checks.f32("argmax", "x", x);
        Checks.minRank("argmax", "x", x, 1);
        if (x.dim(-1) == 0) throw new IllegalArgumentException("argmax: last axis of " + x + " is empty");
        long rows = Checks.rows(x), cols = x.dim(-1);
        Tensor index = Tensor.empty(x.device(), DType.I32, Checks.dropLast(x));
        try (Tensor values = Tensor.empty(x.device(), Checks.dropLast(x))) {
            ReduceNative.maxLastDim(x, values, index, rows, cols);
        }
        return index;
    }

    /** Softmax over the last axis. */
    @Op
    static Tensor softmax(Tensor x) {
        return softmax(x, false);
    }

    /** Log of the softmax over the last axis, computed stably. */
    @Op
    static Tensor logSoftmax(Tensor x) {
        return softmax(x, true);
    }

    private static Tensor softmax(Tensor x, boolean log) {
        String op = log ? "log_softmax" : "softmax";
        Checks.f32(op, "x", x);
        Checks.minRank(op, "x", x, 1);
        if (x.dim(-1) == 0) throw new IllegalArgumentException(op + ": last axis of " + x + " is empty");
        long rows = Checks.rows(x), cols = x.dim(-1);
        int[] shape = x.shape();
        Tensor y = Tensor.empty(x.device(), shape);
        ReduceNative.softmax(x, y, rows, cols, log);
        return Autograd.record(op, y, dy -> {
            Tensor dx = Tensor.empty(dy.device(), shape);
            ReduceNative.softmaxBackward(y, dy, dx, rows, cols, log);
            return new Tensor[] {dx};
        }, x);
    }

    /**
     * (k,): element i is the sum of the squares of tensors[i], all on one device; one read of the result fetches
     * them all (gradient clipping). Not recorded.
     */
    @Op
    static Tensor sumSquares(List<Tensor> tensors) {
        String op = "sum_squares";
        if (tensors == null || tensors.isEmpty()) throw new IllegalArgumentException(op + ": no tensors");
        Tensor first = tensors.get(0);
        for (int i = 0; i < tensors.size(); i++) {
            Checks.f32(op, "tensors[" + i + "]", tensors.get(i));
            Checks.sameDevice(op, first, tensors.get(i));
        }
        Tensor sums = Tensor.empty(first.device(), tensors.size());
        for (int i = 0; i < tensors.size(); i++) ReduceNative.sumSquares(tensors.get(i), sums, i);
        return sums;
    }
}

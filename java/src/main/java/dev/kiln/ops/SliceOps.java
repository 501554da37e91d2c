package dev.kiln.ops;

import dev.kiln.Tensor;
import dev.kiln.internal.RuntimeNative;

import java.util.Arrays;
import java.util.List;

/**
 * Slices and concatenation along one axis. Every one is a single 2-D device copy ({@code kiln_copy_device_2d}): viewed
 * around {@code axis}, a tensor is (outer, dim(axis) x inner) rows, and a slice is a band of columns of those rows.
 */
final class SliceOps {
    private SliceOps() {
    }

    /**
     * Elements [start, start + length) of x along axis (negative axes count from the end), as a new tensor; gradients
     * flow back into that band.
     */
    @Op
    static Tensor narrow(Tensor x, int axis, int start, int length) {
        String op = "narrow";
        Checks.open(op, "x", x);
        int a = Checks.axis(op, x, axis);
        int dim = x.dim(a);
        if (start < 0 || length < 0 || start > dim - length) {
            throw new IllegalArgumentException(op + ": [" + start + ", " + start + " + " + length + ") is outside axis " + a
                    + " of length " + dim + " of " + x);
        }
        int[] shape = x.shape();
        int[] outShape = shape.clone();
        outShape[a] = length;
        long outer = Checks.product(shape, 0, a), inner = Checks.product(shape, a + 1, shape.length);
        Tensor y = Tensor.empty(x.device(), x.dtype(), outShape);
        RuntimeNative.copy2d(y, 0, length * inner, x, start * inner, dim * inner, length * inner, outer);
        if (!Autograd.shouldRecord(x)) return y;
        Checks.f32(op, "x", x);
        return Autograd.record(op, y, dy -> {
            Tensor dx = Ops.fill_(Tensor.empty(dy.device(), shape), 0f);
            RuntimeNative.copy2d(dx, start * inner, dim * inner, dy, 0, length * inner, length * inner, outer);
            return new Tensor[] {dx};
        }, x);
    }

    /** The tensors joined along axis; the other dimensions, dtypes and devices must agree. */
    @Op
    static Tensor concat(List<Tensor> parts, int axis) {
        String op = "concat";
        if (parts == null || parts.isEmpty()) throw new IllegalArgumentException(op + ": needs at least one tensor");
        Tensor first = parts.get(0);
        Checks.open(op, "parts[0]", first);
        int a = Checks.axis(op, first, axis);
        int[] shape = first.shape();
        int total = 0;
        for (int i = 0; i < parts.size(); i++) {
            Tensor p = parts.get(i);
            Checks.open(op, "parts[" + i + "]", p);
            int[] s = p.shape();
            boolean same = s.length == shape.length && p.dtype() == first.dtype() && p.device().equals(first.device());
            for (int d = 0; same && d < s.length; d++) same = d == a || s[d] == shape[d];
            if (!same) {
                throw new IllegalArgumentException(op + ": parts[" + i + "] " + p + " does not match parts[0] " + first
                        + " outside axis " + a);
            }
            total = Math.addExact(total, s[a]);
        }
        int[] outShape = shape.clone();
        outShape[a] = total;
        long outer = Checks.product(shape, 0, a), inner = Checks.product(shape, a + 1, shape.length);
        Tensor y = Tensor.empty(first.device(), first.dtype(), outShape);
        int[] starts = new int[parts.size()];
        int at = 0;
        for (int i = 0; i < parts.size(); i++) {
            Tensor p = parts.get(i);
            starts[i] = at;
            long width = p.dim(a) * inner;
            RuntimeNative.copy2d(y, at * inner, total * inner, p, 0, width, width, outer);
            at += p.dim(a);
        }
        Tensor[] inputs = parts.toArray(new Tensor[0]);
        if (!Autograd.shouldRecord(inputs)) return y;
        for (int i = 0; i < inputs.length; i++) Checks.f32(op, "parts[" + i + "]", inputs[i]);
        final int sum = total;
        return Autograd.record(op, y, dy -> {
            Tensor[] grads = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                if (!Autograd.isTracked(inputs[i])) continue;
                int len = inputs[i].dim(a);
                int[] s = inputs[i].shape();
                grads[i] = Tensor.empty(dy.device(), s);
                RuntimeNative.copy2d(grads[i], 0, len * inner, dy, starts[i] * inner, sum * inner, len * inner, outer);
            }
            return grads;
        }, inputs);
    }

    /**
     * Writes src into dst's band [start, start + src.dim(axis)) along axis, in place and not recorded: a key/value
     * cache takes one token's keys and values this way. dst and src must be distinct tensors with equal other
     * dimensions.
     */
    @Op
    static Tensor copyInto_(Tensor dst, int axis, int start, Tensor src) {
        String op = "copyInto_";
        Checks.open(op, "dst", dst);
        Checks.open(op, "src", src);
        int a = Checks.axis(op, dst, axis);
        int[] ds = dst.shape(), ss = src.shape();
        boolean same = ds.length == ss.length && dst.dtype() == src.dtype();
        for (int d = 0; same && d < ds.length; d++) same = d == a || ds[d] == ss[d];
        if (!same) {
            throw new IllegalArgumentException(op + ": src " + src + " does not match dst " + dst + " outside axis " + a);
        }
        int length = ss[a];
        if (start < 0 || start > ds[a] - length) {
            throw new IllegalArgumentException(op + ": [" + start + ", " + start + " + " + length + ") is outside axis " + a
                    + " of length " + ds[a] + " of " + dst);
        }
        Checks.sameDevice(op, dst, src);
        Autograd.modifiedInPlace(dst);
        long outer = Checks.product(ds, 0, a), inner = Checks.product(ds, a + 1, ds.length);
        RuntimeNative.copy2d(dst, start * inner, ds[a] * inner, src, 0, length * inner, length * inner, outer);
        return dst;
    }
}

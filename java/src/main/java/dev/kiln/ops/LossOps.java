package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Tensor;
import dev.kiln.internal.LossNative;

/** Mean losses, each one fused kernel forward and one backward; results are 0-dimensional device tensors. */
final class LossOps {
    private LossOps() {
    }

    /** Softmax cross entropy of (N, C) logits against int32 labels (N), averaged over N. */
    static Tensor crossEntropy(Tensor logits, Tensor labels) {
        String op = "cross_entropy";
        Checks.f32(op, "logits", logits);
        Checks.open(op, "labels", labels);
        if (labels.dtype() != DType.I32) {
            throw new IllegalArgumentException(op + ": labels must be an int32 tensor (Tensor.ofInts), got " + labels);
        }
        Checks.sameDevice(op, logits, labels);
        if (logits.rank() != 2 || labels.rank() != 1 || labels.dim(0) != logits.dim(0) || logits.dim(1) < 1) {
            throw new IllegalArgumentException(op + ": expected logits (N, C) with C >= 1 and labels (N,), got logits "
                    + Checks.shape(logits) + " and labels " + Checks.shape(labels));
        }
        if (Autograd.isTracked(labels)) throw new IllegalArgumentException(op + ": labels cannot require grad");
        // A mean over no examples is 0 / 0; refused like mean() of an empty axis rather than returned as NaN.
        if (logits.dim(0) == 0) throw new IllegalArgumentException(op + ": empty batch: logits " + Checks.shape(logits));
        int rows = logits.dim(0), cols = logits.dim(1);
        Tensor loss = Tensor.empty(logits.device());
        Tensor lse = Tensor.empty(logits.device(), rows);
        LossNative.crossEntropy(logits, labels, loss, lse, rows, cols);
        return Autograd.record(op, loss, dloss -> {
            Tensor dx = Tensor.empty(dloss.device(), rows, cols);
            LossNative.crossEntropyBackward(logits, labels, lse, dloss, dx, rows, cols);
            return new Tensor[] {dx, null};
        }, logits, labels);
    }

    /** Binary cross entropy on logits x against targets t in [0, 1] (same shape), averaged; stable for any x. */
    static Tensor bceWithLogits(Tensor x, Tensor t) {
        String op = "bce_with_logits";
        checkPair(op, x, t);
        if (Autograd.isTracked(t)) {
            throw new IllegalArgumentException(op + ": targets are constants here; detach them (they require grad)");
        }
        int[] shape = x.shape();
        Tensor loss = Tensor.empty(x.device());
        LossNative.bceWithLogits(x, t, loss);
        return Autograd.record(op, loss, dloss -> {
            Tensor dx = Tensor.empty(dloss.device(), shape);
            LossNative.bceWithLogitsBackward(x, t, dloss, dx);
            return new Tensor[] {dx, null};
        }, x, t);
    }

    /** Mean squared error; differentiable in both arguments. */
    static Tensor mse(Tensor x, Tensor t) {
        String op = "mse";
        checkPair(op, x, t);
        int[] shape = x.shape();
        Tensor loss = Tensor.empty(x.device());
        LossNative.mse(x, t, loss);
        return Autograd.record(op, loss, dloss -> {
            Tensor dx = Tensor.empty(dloss.device(), shape);
            LossNative.mseBackward(x, t, dloss, dx);
            Tensor dt = Autograd.isTracked(t) ? ElementwiseOps.scaleRaw(dx, -1f) : null;
            return new Tensor[] {Autograd.isTracked(x) ? dx : null, dt};
        }, x, t);
    }

    private static void checkPair(String op, Tensor x, Tensor t) {
        Checks.f32(op, "x", x);
        Checks.f32(op, "target", t);
        Checks.sameDevice(op, x, t);
        Checks.sameShape(op, x, t);
        if (x.numel() == 0) throw new IllegalArgumentException(op + ": empty input " + x);
    }
}

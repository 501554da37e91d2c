package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Tensor;
import dev.kiln.internal.LossNative;

/** Mean losses, each one fused kernel forward and one backward; results are 0-dimensional device tensors. */
final class LossOps {
    private LossOps() {
    }

    /** Mean softmax cross entropy of logits (N, C) against int32 labels (N). */
    @Op
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

    /**
     * Mean binary cross entropy of logits against targets in [0, 1] of the same shape, in a form stable for any logit;
     * the targets are constants (a tracked one is refused).
     */
    @Op
    static Tensor bceWithLogits(Tensor logits, Tensor targets) {
        String op = "bce_with_logits";
        checkPair(op, logits, targets);
        if (Autograd.isTracked(targets)) {
            throw new IllegalArgumentException(op + ": targets are constants here; detach them (they require grad)");
        }
        int[] shape = logits.shape();
        Tensor loss = Tensor.empty(logits.device());
        LossNative.bceWithLogits(logits, targets, loss);
        return Autograd.record(op, loss, dloss -> {
            Tensor dx = Tensor.empty(dloss.device(), shape);
            LossNative.bceWithLogitsBackward(logits, targets, dloss, dx);
            return new Tensor[] {dx, null};
        }, logits, targets);
    }

    /** Mean squared error; differentiable in both arguments. */
    @Op
    static Tensor mse(Tensor x, Tensor target) {
        String op = "mse";
        checkPair(op, x, target);
        int[] shape = x.shape();
        Tensor loss = Tensor.empty(x.device());
        LossNative.mse(x, target, loss);
        return Autograd.record(op, loss, dloss -> {
            Tensor dx = Tensor.empty(dloss.device(), shape);
            LossNative.mseBackward(x, target, dloss, dx);
            Tensor dt = Autograd.isTracked(target) ? ElementwiseOps.scaleRaw(dx, -1f) : null;
            return new Tensor[] {Autograd.isTracked(x) ? dx : null, dt};
        }, x, target);
    }

    private static void checkPair(String op, Tensor x, Tensor t) {
        Checks.f32(op, "x", x);
        Checks.f32(op, "target", t);
        Checks.sameDevice(op, x, t);
        Checks.sameShape(op, x, t);
        if (x.numel() == 0) throw new IllegalArgumentException(op + ": empty input " + x);
    }
}

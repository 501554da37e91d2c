package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Tensor;
import dev.kiln.internal.Native;

/** Mean losses, each one fused kernel forward and one backward; results are 0-dimensional device tensors. */
final class Losses {
    private Losses() {
    }

    /** Softmax cross entropy of (N, C) logits against int32 labels (N), averaged over N. */
    static Tensor crossEntropy(Tensor logits, Tensor labels) {
        String op = "cross_entropy";
        Checks.f32(op, "logits", logits);
        if (labels == null || labels.dtype() != DType.I32) {
            throw new IllegalArgumentException(op + ": labels must be an int32 tensor (Tensor.ofInts), got " + labels);
        }
        Checks.sameDevice(op, logits, labels);
        if (logits.rank() != 2 || labels.rank() != 1 || labels.dim(0) != logits.dim(0) || logits.dim(1) < 1) {
            throw new IllegalArgumentException(op + ": expected logits (N, C) with C >= 1 and labels (N,), got logits "
                    + Checks.shape(logits) + " and labels " + Checks.shape(labels));
        }
        if (Autograd.isTracked(labels)) throw new IllegalArgumentException(op + ": labels cannot require grad");
        long rows = logits.dim(0), cols = logits.dim(1);
        Tensor loss = Tensor.empty(logits.device());
        Tensor lse = Tensor.empty(logits.device(), (int) rows);
        Native.crossEntropy(Checks.ctx(loss), logits.address(), labels.address(), loss.address(), lse.address(), rows, cols);
        return Autograd.record(op, loss, dloss -> {
            Tensor dx = Tensor.empty(logits.device(), logits.shape());
            Native.crossEntropyBackward(Checks.ctx(dx), logits.address(), labels.address(), lse.address(), dloss.address(),
                    dx.address(), rows, cols);
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
        Tensor loss = Tensor.empty(x.device());
        Native.bceWithLogits(Checks.ctx(loss), x.address(), t.address(), loss.address(), x.numel());
        return Autograd.record(op, loss, dloss -> {
            Tensor dx = Tensor.empty(x.device(), x.shape());
            Native.bceWithLogitsBackward(Checks.ctx(dx), x.address(), t.address(), dloss.address(), dx.address(), x.numel());
            return new Tensor[] {dx, null};
        }, x, t);
    }

    /** Mean squared error; differentiable in both arguments. */
    static Tensor mse(Tensor x, Tensor t) {
        String op = "mse";
        checkPair(op, x, t);
        Tensor loss = Tensor.empty(x.device());
        Native.mse(Checks.ctx(loss), x.address(), t.address(), loss.address(), x.numel());
        return Autograd.record(op, loss, dloss -> {
            Tensor dx = Tensor.empty(x.device(), x.shape());
            Native.mseBackward(Checks.ctx(dx), x.address(), t.address(), dloss.address(), dx.address(), x.numel());
            Tensor dt = Autograd.isTracked(t) ? Elementwise.scaleRaw(dx, -1f) : null;
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

package dev.kiln.ops;

import dev.kiln.Tensor;
import dev.kiln.internal.LayerNormNative;

/** Layer normalization over the last dimension of a tensor of any leading shape, forward and backward. */
final class LayerNormOps {
    private LayerNormOps() {
    }

    /**
     * Layer normalization over the last dimension of x (..., C): (x - mean) / sqrt(var + eps) * gamma + beta with the
     * biased variance of each row; gamma and beta (C) may be null (1 and 0). Gradients reach x, gamma and beta.
     */
    @Op
    static Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        String op = "layer_norm";
        Checks.f32(op, "x", x);
        Checks.minRank(op, "x", x, 1);
        int cols = x.dim(-1);
        String[] names = {"gamma", "beta"};
        Tensor[] affine = {gamma, beta};
        for (int i = 0; i < affine.length; i++) {
            Tensor t = affine[i];
            if (t == null) continue;
            Checks.f32(op, names[i], t);
            Checks.sameDevice(op, x, t);
            if (t.rank() != 1 || t.dim(0) != cols) {
                throw new IllegalArgumentException(op + ": '" + names[i] + "' must be (C,) with C = " + cols
                        + " the last dimension of x " + Checks.shape(x) + ", got " + Checks.shape(t));
            }
        }
        if (!(eps > 0) || Float.isInfinite(eps)) {
            throw new IllegalArgumentException(op + ": eps must be a finite value > 0, got " + eps);
        }
        long rows = leadingRows(x);
        if (rows > 0 && cols == 0) {
            throw new IllegalArgumentException(op + ": the last dimension of x (the one normalized) must be >= 1, got "
                    + Checks.shape(x));
        }
        int[] shape = x.shape();
        Tensor y = Tensor.empty(x.device(), shape);
        // The statistics are kept only for a backward; an inference call does not allocate them.
        boolean saves = Autograd.shouldRecord(x, gamma, beta);
        Tensor mean = saves ? Tensor.empty(x.device(), Checks.dropLast(x)) : null;
        Tensor rstd = saves ? Tensor.empty(x.device(), Checks.dropLast(x)) : null;
        LayerNormNative.forward(x, gamma, beta, y, mean, rstd, rows, cols, eps);
        return Autograd.record(op, y, dy -> {
            Tensor dx = Autograd.isTracked(x) ? Tensor.empty(dy.device(), shape) : null;
            Tensor dgamma = gamma != null && Autograd.isTracked(gamma) ? Tensor.empty(dy.device(), cols) : null;
            Tensor dbeta = beta != null && Autograd.isTracked(beta) ? Tensor.empty(dy.device(), cols) : null;
            LayerNormNative.backward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols);
            return new Tensor[] {dx, dgamma, dbeta};
        }, x, gamma, beta);
    }

    /** The product of every dimension but the last: the rows of x (..., C), also when C is 0. */
    static long leadingRows(Tensor x) {
        long rows = 1;
        for (int i = 0; i < x.rank() - 1; i++) rows *= x.dim(i);  // <= numel when C >= 1; a Tensor's dims fit a long
        return rows;
    }
}

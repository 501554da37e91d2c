package dev.kiln.ops;

import dev.kiln.Tensor;
import dev.kiln.internal.BatchNormNative;

/** Batch normalization over the channel dimension of (N, C) or (N, C, H, W) tensors, forward and backward. */
final class BatchNormOps {
    private BatchNormOps() {
    }

    /**
     * Batch normalization of x (N, C) or (N, C, H, W) per channel. Training uses batch statistics and updates the
     * running ones (when given) with {@code momentum}; evaluation uses the running ones. gamma/beta may be null.
     */
    @Op
    static Tensor batchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, boolean training,
                            float momentum, float eps) {
        String op = "batch_norm";
        Checks.f32(op, "x", x);
        if (x.rank() != 2 && x.rank() != 4) {
            throw new IllegalArgumentException(op + ": expected x (N, C) or (N, C, H, W), got " + Checks.shape(x));
        }
        int n = x.dim(0), c = x.dim(1);
        long hw = x.rank() == 4 ? (long) x.dim(2) * x.dim(3) : 1;
        String[] names = {"gamma", "beta", "running_mean", "running_var"};
        Tensor[] perChannel = {gamma, beta, runningMean, runningVar};
        for (int i = 0; i < perChannel.length; i++) {
            Tensor t = perChannel[i];
            if (t == null) continue;
            Checks.f32(op, names[i], t);
            Checks.sameDevice(op, x, t);
            if (t.rank() != 1 || t.dim(0) != c) {
                throw new IllegalArgumentException(op + ": '" + names[i] + "' must be (" + c + ",), got " + Checks.shape(t));
            }
        }
        if (!(eps > 0)) throw new IllegalArgumentException(op + ": eps must be > 0, got " + eps);
        int[] shape = x.shape();
        Tensor y = Tensor.empty(x.device(), shape);
        if (!training) {
            if (runningMean == null || runningVar == null) {
                throw new IllegalArgumentException(op + ": evaluation mode needs the running mean and variance, got "
                        + (runningMean == null ? "'running_mean' null" : "'running_mean'") + " and "
                        + (runningVar == null ? "'running_var' null" : "'running_var'"));
            }
            BatchNormNative.eval(n, c, hw, x, gamma, beta, runningMean, runningVar, eps, y);
            // Fine-tuning with frozen statistics: the running mean/var are constants here (not inputs of the node), so
            // y is affine in x and gamma and no gradient flows into the statistics.
            return Autograd.record(op, y, dy -> {
                Tensor dx = Autograd.isTracked(x) ? Tensor.empty(dy.device(), shape) : null;
                Tensor dgamma = gamma != null && Autograd.isTracked(gamma) ? Tensor.empty(dy.device(), c) : null;
                Tensor dbeta = beta != null && Autograd.isTracked(beta) ? Tensor.empty(dy.device(), c) : null;
                BatchNormNative.backwardEval(n, c, hw, x, dy, gamma, runningMean, runningVar, eps, dx, dgamma, dbeta);
                return new Tensor[] {dx, dgamma, dbeta};
            }, x, gamma, beta);
        }
        if ((long) n * hw < 2) {
            throw new IllegalArgumentException(op + ": training needs more than one value per channel, got " + Checks.shape(x));
        }
        Tensor mean = Tensor.empty(x.device(), c), invstd = Tensor.empty(x.device(), c);
        Autograd.modifiedInPlace(runningMean, runningVar);  // updated in place by the training forward
        BatchNormNative.train(n, c, hw, x, gamma, beta, y, mean, invstd, runningMean, runningVar, momentum, eps);
        return Autograd.record(op, y, dy -> {
            Tensor dx = Tensor.empty(dy.device(), shape);
            Tensor dgamma = gamma != null && Autograd.isTracked(gamma) ? Tensor.empty(dy.device(), c) : null;
            Tensor dbeta = beta != null && Autograd.isTracked(beta) ? Tensor.empty(dy.device(), c) : null;
            BatchNormNative.backward(n, c, hw, x, dy, gamma, mean, invstd, dx, dgamma, dbeta);
            return new Tensor[] {dx, dgamma, dbeta};
        }, x, gamma, beta);
    }
}

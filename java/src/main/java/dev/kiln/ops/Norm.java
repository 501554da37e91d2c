package dev.kiln.ops;

import dev.kiln.Tensor;
import dev.kiln.internal.Native;

/** Batch normalization over the channel dimension of (N, C) or (N, C, H, W) tensors. */
final class Norm {
    private Norm() {
    }

    static Tensor batchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, boolean training,
                            float momentum, float eps) {
        String op = "batch_norm";
        Checks.f32(op, "x", x);
        if (x.rank() != 2 && x.rank() != 4) {
            throw new IllegalArgumentException(op + ": expected x (N, C) or (N, C, H, W), got " + Checks.shape(x));
        }
        int n = x.dim(0), c = x.dim(1);
        long hw = x.rank() == 4 ? (long) x.dim(2) * x.dim(3) : 1;
        for (Tensor t : new Tensor[] {gamma, beta, runningMean, runningVar}) {
            if (t == null) continue;
            Checks.f32(op, "parameter", t);
            Checks.sameDevice(op, x, t);
            if (t.rank() != 1 || t.dim(0) != c) {
                throw new IllegalArgumentException(op + ": per-channel tensors must be (" + c + ",), got " + Checks.shape(t));
            }
        }
        if (!(eps > 0)) throw new IllegalArgumentException(op + ": eps must be > 0, got " + eps);
        long ctx = Checks.ctx(x);
        long gammaAddr = gamma == null ? 0 : gamma.address(), betaAddr = beta == null ? 0 : beta.address();
        Tensor y = Tensor.empty(x.device(), x.shape());
        if (!training) {
            if (runningMean == null || runningVar == null) {
                throw new IllegalArgumentException(op + ": evaluation mode needs the running mean and variance");
            }
            Native.batchNormEval(ctx, n, c, hw, x.address(), gammaAddr, betaAddr, runningMean.address(),
                    runningVar.address(), eps, y.address());
            // Fine-tuning with frozen statistics: the running mean/var are constants here (not inputs of the node), so
            // y is affine in x and gamma and no gradient flows into the statistics.
            return Autograd.record(op, y, dy -> {
                Tensor dx = Autograd.isTracked(x) ? Tensor.empty(x.device(), x.shape()) : null;
                Tensor dgamma = gamma != null && Autograd.isTracked(gamma) ? Tensor.empty(x.device(), c) : null;
                Tensor dbeta = beta != null && Autograd.isTracked(beta) ? Tensor.empty(x.device(), c) : null;
                Native.batchNormBackwardEval(Checks.ctx(dy), n, c, hw, x.address(), dy.address(), gammaAddr,
                        runningMean.address(), runningVar.address(), eps, dx == null ? 0 : dx.address(),
                        dgamma == null ? 0 : dgamma.address(), dbeta == null ? 0 : dbeta.address());
                return new Tensor[] {dx, dgamma, dbeta};
            }, x, gamma, beta);
        }
        if ((long) n * hw < 2) {
            throw new IllegalArgumentException(op + ": training needs more than one value per channel, got " + Checks.shape(x));
        }
        Tensor mean = Tensor.empty(x.device(), c), invstd = Tensor.empty(x.device(), c);
        Native.batchNormTrain(ctx, n, c, hw, x.address(), gammaAddr, betaAddr, y.address(), mean.address(), invstd.address(),
                runningMean == null ? 0 : runningMean.address(), runningVar == null ? 0 : runningVar.address(), momentum, eps);
        return Autograd.record(op, y, dy -> {
            Tensor dx = Tensor.empty(x.device(), x.shape());
            Tensor dgamma = gamma != null && Autograd.isTracked(gamma) ? Tensor.empty(x.device(), c) : null;
            Tensor dbeta = beta != null && Autograd.isTracked(beta) ? Tensor.empty(x.device(), c) : null;
            Native.batchNormBackward(Checks.ctx(dx), n, c, hw, x.address(), dy.address(), gammaAddr, mean.address(),
                    invstd.address(), dx.address(), dgamma == null ? 0 : dgamma.address(), dbeta == null ? 0 : dbeta.address());
            return new Tensor[] {dx, dgamma, dbeta};
        }, x, gamma, beta);
    }
}

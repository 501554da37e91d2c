package dev.kiln.ops;

import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.internal.SamplingNative;

/** The VAE's reparameterized sampling and its KL term, each one fused kernel forward and one backward. */
final class SamplingOps {
    private SamplingOps() {
    }

    /**
     * The VAE's reparameterized sample z = mu + exp(logvar / 2) eps, eps ~ N(0, 1) from {@code generator}: the noise is
     * drawn inside the kernel and regenerated in the backward, so gradients reach mu and logvar and nothing is stored.
     * The same generator state gives the same z, bit for bit, on every device.
     */
    @Op
    static Tensor reparameterize(Tensor mu, Tensor logvar, Generator generator) {
        String op = "reparameterize";
        checkPair(op, mu, logvar);
        if (generator == null) throw new IllegalArgumentException(op + ": generator is null");
        long n = mu.numel(), seed = generator.seed(), offset = generator.reserve(n);
        int[] shape = mu.shape();
        Tensor z = Tensor.empty(mu.device(), shape);
        SamplingNative.reparameterize(mu, logvar, z, n, seed, offset);
        return Autograd.record(op, z, dz -> {
            Tensor dmu = Autograd.isTracked(mu) ? Tensor.empty(dz.device(), shape) : null;
            Tensor dlogvar = Autograd.isTracked(logvar) ? Tensor.empty(dz.device(), shape) : null;
            SamplingNative.reparameterizeBackward(logvar, dz, dmu, dlogvar, n, seed, offset);
            return new Tensor[] {dmu, dlogvar};
        }, mu, logvar);
    }

    /** KL(N(mu, exp(logvar)) || N(0, I)) for mu, logvar (N, D), summed over D and averaged over N (a 0-d tensor). */
    @Op
    static Tensor gaussianKl(Tensor mu, Tensor logvar) {
        String op = "gaussian_kl";
        checkPair(op, mu, logvar);
        if (mu.rank() != 2) throw new IllegalArgumentException(op + ": expected mu and logvar (N, D), got " + Checks.shape(mu));
        int batch = mu.dim(0), dim = mu.dim(1);
        Tensor loss = Tensor.empty(mu.device());
        SamplingNative.gaussianKl(mu, logvar, loss, batch, dim);
        return Autograd.record(op, loss, dloss -> {
            Tensor dmu = Autograd.isTracked(mu) ? Tensor.empty(dloss.device(), batch, dim) : null;
            Tensor dlogvar = Autograd.isTracked(logvar) ? Tensor.empty(dloss.device(), batch, dim) : null;
            SamplingNative.gaussianKlBackward(mu, logvar, dloss, dmu, dlogvar, batch, dim);
            return new Tensor[] {dmu, dlogvar};
        }, mu, logvar);
    }

    private static void checkPair(String op, Tensor mu, Tensor logvar) {
        Checks.f32(op, "mu", mu);
        Checks.f32(op, "logvar", logvar);
        Checks.sameDevice(op, mu, logvar);
        Checks.sameShape(op, mu, logvar);
    }
}

package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.nn.Activation;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Module;
import dev.kiln.nn.Sequential;
import dev.kiln.ops.Autograd;
import dev.kiln.ops.NoGrad;
import dev.kiln.ops.Ops;
import dev.kiln.train.TrainStep;

import java.util.Iterator;

/**
 * A variational autoencoder for 28 x 28 images with pixels in [0, 1]: encoder Dense(256) ReLU into two separate heads,
 * the mean and the log-variance of q(z | x) (one shared layer for both is the classic mistake); a reparameterized
 * sample z; decoder Dense(512) ReLU, Dense(784) giving Bernoulli logits, so the sigmoid lives inside the
 * reconstruction loss (BCE with logits, summed over pixels). Its loss is the negative ELBO in nats per image.
 */
public final class Vae extends Module {
    /** q(z | x): mean and log-variance, each (N, latent). */
    public record Encoding(Tensor mean, Tensor logvar) {
    }

    /** The negative ELBO of a batch and its two parts, each a 0-d tensor in nats per image. */
    public record Losses(Tensor total, Tensor reconstruction, Tensor kl) {
    }

    /** Test-set averages in nats per image. */
    public record Elbo(double negativeElbo, double reconstruction, double kl) {
    }

    private static final int PIXELS = 28 * 28;

    private final Sequential encoder;
    private final Linear meanHead;
    private final Linear logvarHead;
    private final Sequential decoder;
    private final int latent;
    private final Generator noise;

    /** {@code g} initializes the weights; {@code noise} draws the reparameterized samples. */
    public Vae(int latent, Device device, Generator g, Generator noise) {
        if (latent < 1) throw new IllegalArgumentException("Vae: latent size must be >= 1, got " + latent);
        this.latent = latent;
        this.noise = noise;
        encoder = registerModule("encoder", new Sequential(new Linear(PIXELS, 256, device, g), Activation.relu()));
        meanHead = registerModule("mean", new Linear(256, latent, device, g));
        logvarHead = registerModule("logvar", new Linear(256, latent, device, g));
        decoder = registerModule("decoder", new Sequential(new Linear(latent, 512, device, g), Activation.relu(),
                new Linear(512, PIXELS, device, g)));
    }

    /** The Fashion-MNIST VAE with the given latent size; the training noise is seeded from {@code g}'s seed. */
    public static Vae fashionMnist(int latent, Device device, Generator g) {
        return new Vae(latent, device, g, new Generator(g.seed() ^ 0x5DEECE66DL));
    }

    /** The generator of the training step's reparameterization noise (a checkpoint saves its offset). */
    public Generator noise() {
        return noise;
    }

    /** The latent size, the dimension of z. */
    public int latentSize() {
        return latent;
    }

    /** x is (N, 1, 28, 28) or (N, 784). */
    public Encoding encode(Tensor x) {
        Tensor h = encoder.forward(flat(x));
        return new Encoding(meanHead.forward(h), logvarHead.forward(h));
    }

    /** z (N, latent) to Bernoulli logits (N, 784). */
    public Tensor decode(Tensor z) {
        return decoder.forward(z);
    }

    /**
     * The negative ELBO of x with one reparameterized sample of z drawn from {@code noise}: the reconstruction term
     * (BCE summed over the 784 pixels, averaged over the batch) plus KL(q(z | x) || N(0, I)) (summed over the latent
     * dimensions, averaged over the batch).
     */
    public Losses losses(Tensor x, Generator noise) {
        Tensor flat = flat(x);
        Encoding q = encode(flat);
        Tensor z = Ops.reparameterize(q.mean(), q.logvar(), noise);
        Tensor reconstruction = Ops.scale(Ops.bceWithLogits(decode(z), flat), PIXELS);  // mean over pixels -> sum
        Tensor kl = Ops.gaussianKl(q.mean(), q.logvar());
        return new Losses(Ops.add(reconstruction, kl), reconstruction, kl);
    }

    /** The training step: minimize the negative ELBO, log it and its parts as "loss", "recon" and "kl". */
    public TrainStep<BatchLoader.Batch> step() {
        return (batch, step) -> {
            Losses l = losses(batch.x(), noise);
            step.minimize(l.total());
            step.log("loss", l.total());
            step.log("recon", l.reconstruction());
            step.log("kl", l.kl());
        };
    }

    /** Images (N, 1, 28, 28) in [0, 1] decoded from z ~ N(0, I) drawn from {@code g}: samples from the prior. */
    public Tensor sample(int n, Generator g) {
        try (NoGrad off = Autograd.noGrad()) {
            return Ops.reshape(Ops.sigmoid(decode(Tensor.randn(g, deviceOf(), n, latent))), n, 1, 28, 28);
        }
    }

    /** Reconstructions (N, 1, 28, 28) in [0, 1] of x through the posterior mean (no sampling). */
    public Tensor reconstruct(Tensor x) {
        try (NoGrad off = Autograd.noGrad()) {
            return Ops.reshape(Ops.sigmoid(decode(encode(x).mean())), x.dim(0), 1, 28, 28);
        }
    }

    /**
     * The average negative ELBO over {@code data}, one z sample per image from a generator seeded with {@code seed}
     * (so the estimate is repeatable and leaves the training noise alone), in eval mode and without gradients.
     */
    public Elbo evaluate(Dataset data, int batchSize, Device device, long seed) {
        Generator evalNoise = new Generator(seed);
        boolean wasTraining = isTraining();
        eval();
        double total = 0, recon = 0, kl = 0;
        long seen = 0;
        try (NoGrad off = Autograd.noGrad()) {
            Iterator<BatchLoader.Batch> batches = new BatchLoader(data, batchSize, false, 0, device).epoch().iterator();
            while (batches.hasNext()) {
                try (Scope s = Scope.open()) {
                    BatchLoader.Batch b = batches.next();
                    Losses l = losses(b.x(), evalNoise);
                    total += (double) l.total().item() * b.size();
                    recon += (double) l.reconstruction().item() * b.size();
                    kl += (double) l.kl().item() * b.size();
                    seen += b.size();
                }
            }
        } finally {
            train(wasTraining);
        }
        return new Elbo(total / seen, recon / seen, kl / seen);
    }

    private Device deviceOf() {
        return meanHead.weight().device();
    }

    private static Tensor flat(Tensor x) {
        if (x.rank() == 2 && x.dim(1) == PIXELS) return x;
        if (x.rank() >= 3 && x.dim(-1) == 28 && x.dim(-2) == 28 && x.numel() == (long) x.dim(0) * PIXELS) {
            return Ops.reshape(x, x.dim(0), PIXELS);
        }
        throw new IllegalArgumentException("Vae: input must be (N, 1, 28, 28) or (N, 784), got " + x);
    }

    @Override
    public String toString() {
        return "Vae(latent " + latent + ", " + parameterCount() + " parameters)";
    }
}

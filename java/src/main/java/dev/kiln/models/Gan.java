package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.data.BatchLoader;
import dev.kiln.nn.Activation;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Module;
import dev.kiln.nn.Sequential;
import dev.kiln.ops.Autograd;
import dev.kiln.ops.NoGrad;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Optimizer;
import dev.kiln.train.TrainStep;

import java.util.List;

/**
 * A fully connected GAN for 28 x 28 images: generator Dense(256) ReLU, Dense(512) ReLU, Dense(784) tanh from 100-d
 * Gaussian noise; discriminator Dense(512) LeakyReLU(0.2), Dense(256) LeakyReLU(0.2), Dense(1) giving a logit, trained
 * with BCE on logits. Real images are scaled from [0, 1] to the generator's [-1, 1].
 */
public final class Gan extends Module {
    /** Size of the generator's noise vectors z. */
    public static final int NOISE = 100;
    private static final int PIXELS = 28 * 28;

    private final Sequential generator;
    private final Sequential discriminator;

    /** A GAN on {@code device}, its weights initialized from {@code g}. */
    public Gan(Device device, Generator g) {
        generator = registerModule("generator", new Sequential(new Linear(NOISE, 256, device, g), Activation.relu(),
                new Linear(256, 512, device, g), Activation.relu(), new Linear(512, PIXELS, device, g), Activation.tanh()));
        discriminator = registerModule("discriminator", new Sequential(new Linear(PIXELS, 512, device, g),
                Activation.leakyRelu(0.2f), new Linear(512, 256, device, g), Activation.leakyRelu(0.2f),
                new Linear(256, 1, device, g)));
    }

    /** The generator's parameters, for its optimizer. */
    public List<Tensor> generatorParameters() {
        return generator.parameters();
    }

    /** The discriminator's parameters, for its optimizer. */
    public List<Tensor> discriminatorParameters() {
        return discriminator.parameters();
    }

    /** z (N, 100) to images (N, 784) in [-1, 1]. */
    public Tensor generate(Tensor z) {
        return generator.forward(z);
    }

    /** Images (N, 784) in [-1, 1] to real-vs-fake logits (N, 1). */
    public Tensor discriminate(Tensor x) {
        return discriminator.forward(x);
    }

    /** Images (N, 1, 28, 28) in [0, 1] from the noise batch z (N, 100), without gradients. */
    public Tensor images(Tensor z) {
        try (NoGrad off = Autograd.noGrad()) {
            Tensor x = generate(z);
            return Ops.reshape(Ops.scale(Ops.add(x, Tensor.scalar(x.device(), 1f)), 0.5f), z.dim(0), 1, 28, 28);
        }
    }

    /**
     * One alternating update per batch: the discriminator on real images (label 1) and on detached fakes (label 0),
     * then the generator through the updated discriminator with the non-saturating loss (fakes labelled 1), reusing
     * the same fakes. Logs "d_loss" and "g_loss".
     */
    public TrainStep<BatchLoader.Batch> step(Optimizer generatorOptimizer, Optimizer discriminatorOptimizer,
                                             Generator noise) {
        return (batch, step) -> {
            Device device = batch.x().device();
            int n = batch.size();
            Tensor real = Ops.add(Ops.scale(Ops.reshape(batch.x(), n, PIXELS), 2f), Tensor.scalar(device, -1f));
            Tensor fake = generate(Tensor.randn(noise, device, n, NOISE));
            Tensor ones = Tensor.ones(device, n, 1), zeros = Tensor.zeros(device, n, 1);
            Tensor dLoss = Ops.add(Ops.bceWithLogits(discriminate(real), ones),
                    Ops.bceWithLogits(discriminate(Ops.detach(fake)), zeros));
            step.minimize(dLoss, discriminatorOptimizer);
            Tensor gLoss = Ops.bceWithLogits(discriminate(fake), ones);
            step.minimize(gLoss, generatorOptimizer);
            step.log("d_loss", dLoss);
            step.log("g_loss", gLoss);
        };
    }

    @Override
    public String toString() {
        return "Gan(" + parameterCount() + " parameters)";
    }
}

package dev.kiln.compare.djl;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.loss.SigmoidBinaryCrossEntropyLoss;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * torch_models.Gan in DJL: generator 100-256-512-784 (ReLU, tanh out), discriminator 784-512-256-1 (LeakyReLU 0.2).
 * Recipe of train_generative.torch_gan: batch 64, real images scaled to [-1, 1], two Adams (2e-4, beta1 0.5) taking
 * turns each step: the discriminator on real and detached fakes, then the generator through the updated
 * discriminator on the same fakes; BCE with logits. Metric: the last step's two losses.
 */
final class Gan {
    private static final int BATCH = 64;
    private static final int NOISE = 100;

    private Gan() {
    }

    static Block generator() {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(256).build()).add(Activation.reluBlock())
                .add(Linear.builder().setUnits(512).build()).add(Activation.reluBlock())
                .add(Linear.builder().setUnits(FashionMnist.PIXELS).build()).add(Activation.tanhBlock());
    }

    static Block discriminator() {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(512).build()).add(Activation.leakyReluBlock(0.2f))
                .add(Linear.builder().setUnits(256).build()).add(Activation.leakyReluBlock(0.2f))
                .add(Linear.builder().setUnits(1).build());
    }

    static Result train(int epochs, int limit, long seed) throws IOException {
        Shape item = new Shape(FashionMnist.PIXELS);
        FashionMnist train = FashionMnist.load("train", limit, BATCH);
        Loss bce = new SigmoidBinaryCrossEntropyLoss();
        try (Model g = Model.newInstance("generator", ai.djl.Device.cpu(), "PyTorch");
             Model d = Model.newInstance("discriminator", ai.djl.Device.cpu(), "PyTorch")) {
            g.setBlock(generator());
            d.setBlock(discriminator());
            try (Trainer gt = g.newTrainer(Recipes.adam(bce, 2e-4f, 0.5f));
                 Trainer dt = d.newTrainer(Recipes.adam(bce, 2e-4f, 0.5f))) {
                gt.initialize(new Shape(BATCH, NOISE));
                dt.initialize(FashionMnist.batchShape(BATCH, item));
                List<NDArray> dWeights = d.getBlock().getParameters().values().stream().map(Parameter::getArray).toList();
                long samples = 0;
                double seconds = 0, dLoss = 0, gLoss = 0;
                for (int epoch = 0; epoch < epochs; epoch++) {
                    int[] order = train.permutation(seed, epoch);
                    long t0 = System.nanoTime();
                    for (int from = 0; from < train.count(); from += BATCH) {
                        int n = Math.min(BATCH, train.count() - from);
                        try (NDManager step = gt.getManager().newSubManager()) {
                            NDArray real = train.images(step, order, from, n, item).mul(2).sub(1);
                            NDArray ones = step.ones(new Shape(n, 1)), zeros = step.zeros(new Shape(n, 1));
                            NDArray dl, gl;
                            // One collector for the step (DJL allows one at a time); two backward passes as in PyTorch.
                            try (GradientCollector collector = dt.newGradientCollector()) {
                                NDArray fake = gt.forward(new NDList(step.randomNormal(new Shape(n, NOISE)))).singletonOrThrow();
                                dl = bce.evaluate(new NDList(ones), dt.forward(new NDList(real)))
                                        .add(bce.evaluate(new NDList(zeros), dt.forward(new NDList(fake.stopGradient()))));
                                collector.backward(dl);
                                dt.step();
                                gl = bce.evaluate(new NDList(ones), dt.forward(new NDList(fake)));
                                collector.backward(gl);
                                gt.step();
                            }
                            // The generator's pass also left gradients on the discriminator; PyTorch's opt_d.zero_grad()
                            // drops them before the next discriminator step, DJL's step() only zeroes what it updated.
                            for (NDArray w : dWeights) {
                                try (NDArray grad = w.getGradient()) {  // a handle on the gradient; closing frees the handle only
                                    grad.subi(grad);
                                }
                            }
                            dLoss = dl.getFloat();
                            gLoss = gl.getFloat();
                        }
                        samples += n;
                    }
                    seconds += (System.nanoTime() - t0) / 1e9;
                }
                return new Result(samples, seconds, Map.of("d_loss", dLoss, "g_loss", gLoss));
            }
        }
    }
}

package dev.kiln.compare.djl;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.SigmoidBinaryCrossEntropyLoss;
import ai.djl.util.PairList;

import java.io.IOException;
import java.util.Map;

/**
 * torch_models.Vae in DJL: encoder dense 256 ReLU with separate mean and log-variance heads (latent 20), decoder dense
 * 512 ReLU, dense 784 (logits). Recipe of train_generative.torch_vae: Adam 1e-3, batch 128, loss the negative ELBO
 * (reconstruction BCE summed over pixels plus KL, both averaged over the batch), reparameterized sampling.
 */
final class Vae extends AbstractBlock {
    private static final int BATCH = 128;
    private static final int LATENT = 20;

    private final Block encoder;
    private final Block mean;
    private final Block logVariance;
    private final Block decoder;

    private Vae() {
        encoder = addChildBlock("encoder", new SequentialBlock()
                .add(Linear.builder().setUnits(256).build()).add(Activation.reluBlock()));
        mean = addChildBlock("mean", Linear.builder().setUnits(LATENT).build());
        logVariance = addChildBlock("logvar", Linear.builder().setUnits(LATENT).build());
        decoder = addChildBlock("decoder", new SequentialBlock()
                .add(Linear.builder().setUnits(512).build()).add(Activation.reluBlock())
                .add(Linear.builder().setUnits(FashionMnist.PIXELS).build()));
    }

    /** (N, 784) pixels to (decoder logits, mean, log-variance), z = mean + exp(logvar / 2) * eps. */
    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList h = encoder.forward(store, inputs, training);
        NDArray mu = mean.forward(store, h, training).singletonOrThrow();
        NDArray logvar = logVariance.forward(store, h, training).singletonOrThrow();
        NDArray z = mu.add(logvar.mul(0.5f).exp().mul(mu.getManager().randomNormal(mu.getShape())));
        NDArray logits = decoder.forward(store, new NDList(z), training).singletonOrThrow();
        return new NDList(logits, mu, logvar);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        long n = inputs[0].get(0);
        return new Shape[] {new Shape(n, FashionMnist.PIXELS), new Shape(n, LATENT), new Shape(n, LATENT)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        encoder.initialize(manager, dataType, inputShapes);
        Shape hidden = encoder.getOutputShapes(inputShapes)[0];
        mean.initialize(manager, dataType, hidden);
        logVariance.initialize(manager, dataType, hidden);
        decoder.initialize(manager, dataType, new Shape(inputShapes[0].get(0), LATENT));
    }

    /** The negative ELBO per image, averaged over the batch. */
    private static NDArray negativeElbo(NDArray x, NDList out) {
        NDArray logits = out.get(0), mu = out.get(1), logvar = out.get(2);
        long n = x.getShape().get(0);
        // DJL's loss averages over every element; times 784 it is the per-image sum of train_generative's recipe.
        NDArray recon = new SigmoidBinaryCrossEntropyLoss().evaluate(new NDList(x), new NDList(logits)).mul(FashionMnist.PIXELS);
        NDArray kl = logvar.add(1).sub(mu.square()).sub(logvar.exp()).sum().mul(-0.5f / n);
        return recon.add(kl);
    }

    static Result train(int epochs, int limit, long seed) throws IOException {
        Shape item = new Shape(FashionMnist.PIXELS);
        FashionMnist train = FashionMnist.load("train", limit, BATCH);
        FashionMnist test = FashionMnist.load("test", 0, 1000);
        try (Model model = Model.newInstance("vae", ai.djl.Device.cpu(), "PyTorch")) {
            model.setBlock(new Vae());
            try (Trainer trainer = model.newTrainer(Recipes.adam(new SigmoidBinaryCrossEntropyLoss(), 1e-3f, 0.9f))) {
                trainer.initialize(FashionMnist.batchShape(BATCH, item));
                long samples = 0;
                double seconds = 0;
                for (int epoch = 0; epoch < epochs; epoch++) {
                    int[] order = train.permutation(seed, epoch);
                    long t0 = System.nanoTime();
                    for (int from = 0; from < train.count(); from += BATCH) {
                        int n = Math.min(BATCH, train.count() - from);
                        try (NDManager step = trainer.getManager().newSubManager()) {
                            NDArray x = train.images(step, order, from, n, item);
                            try (GradientCollector collector = trainer.newGradientCollector()) {
                                collector.backward(negativeElbo(x, trainer.forward(new NDList(x))));
                            }
                            trainer.step();
                        }
                        samples += n;
                    }
                    seconds += (System.nanoTime() - t0) / 1e9;
                }
                return new Result(samples, seconds, Map.of("test_negative_elbo", testElbo(trainer, test, item)));
            }
        }
    }

    private static double testElbo(Trainer trainer, FashionMnist test, Shape item) {
        int[] order = test.inOrder();
        double total = 0;
        for (int from = 0; from < test.count(); from += 1000) {
            int n = Math.min(1000, test.count() - from);
            try (NDManager batch = trainer.getManager().newSubManager()) {
                NDArray x = test.images(batch, order, from, n, item);
                total += negativeElbo(x, trainer.evaluate(new NDList(x))).getFloat() * n;
            }
        }
        return total / test.count();
    }
}

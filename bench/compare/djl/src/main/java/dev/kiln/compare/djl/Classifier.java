package dev.kiln.compare.djl;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;

import java.io.IOException;
import java.util.Map;

/**
 * The three Fashion-MNIST classifiers of torch_models.py (mlp, cnn, rnn) as DJL blocks, and their recipe from
 * train_cpu.torch_run: Adam 1e-3, batch 64, cross-entropy, the last batch smaller; test accuracy afterwards.
 */
final class Classifier {
    private static final int BATCH = 64;

    /** A model: its block and the shape of one example as the block takes it. */
    private record Spec(Block block, Shape item) {
    }

    private Classifier() {
    }

    static boolean knows(String name) {
        return name.equals("mlp") || name.equals("cnn") || name.equals("rnn");
    }

    /** 784-256-10 with ReLU. */
    private static Spec mlp() {
        return new Spec(new SequentialBlock()
                .add(Linear.builder().setUnits(256).build()).add(Activation.reluBlock())
                .add(Linear.builder().setUnits(10).build()), new Shape(FashionMnist.PIXELS));
    }

    /** conv 3x3 32, pool 2, conv 3x3 64, pool 2, dense 128, dense 10 (valid convolutions, as nn.Conv2d(.., 3)). */
    private static Spec cnn() {
        return new Spec(new SequentialBlock()
                .add(Conv2d.builder().setKernelShape(new Shape(3, 3)).setFilters(32).build())
                .add(Activation.reluBlock()).add(Pool.maxPool2dBlock(new Shape(2, 2)))
                .add(Conv2d.builder().setKernelShape(new Shape(3, 3)).setFilters(64).build())
                .add(Activation.reluBlock()).add(Pool.maxPool2dBlock(new Shape(2, 2)))
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(128).build()).add(Activation.reluBlock())
                .add(Linear.builder().setUnits(10).build()), new Shape(1, 28, 28));
    }

    /** An LSTM (28 inputs, 64 state) over the 28 rows, its last hidden state into dense 128 ReLU, dense 10. */
    private static Spec rnn() {
        return new Spec(new SequentialBlock()
                // returnState: (output, h, c); the head reads h of the one layer, as LstmClassifier reads h[-1].
                .add(LSTM.builder().setStateSize(64).setNumLayers(1).optBatchFirst(true).optReturnState(true).build())
                .add(new LambdaBlock(states -> new NDList(states.get(1).squeeze(0)), "lastHidden"))
                .add(Linear.builder().setUnits(128).build()).add(Activation.reluBlock())
                .add(Linear.builder().setUnits(10).build()), new Shape(28, 28));
    }

    static Result train(String name, int epochs, int limit, long seed) throws IOException {
        Spec spec = switch (name) {
            case "mlp" -> mlp();
            case "cnn" -> cnn();
            case "rnn" -> rnn();
            default -> throw new IllegalArgumentException("not a classifier: " + name);
        };
        FashionMnist train = FashionMnist.load("train", limit, BATCH);
        FashionMnist test = FashionMnist.load("test", 0, 1000);
        try (Model model = Model.newInstance(name, ai.djl.Device.cpu(), "PyTorch")) {
            model.setBlock(spec.block());
            try (Trainer trainer = model.newTrainer(Recipes.adam(new SoftmaxCrossEntropyLoss(), 1e-3f, 0.9f))) {
                trainer.initialize(FashionMnist.batchShape(BATCH, spec.item()));
                long samples = 0;
                double seconds = 0;
                for (int epoch = 0; epoch < epochs; epoch++) {
                    int[] order = train.permutation(seed, epoch);
                    long t0 = System.nanoTime();
                    for (int from = 0; from < train.count(); from += BATCH) {
                        int n = Math.min(BATCH, train.count() - from);
                        // One sub-manager per step: every array the step makes is freed when it closes (flat memory).
                        try (NDManager step = trainer.getManager().newSubManager()) {
                            NDArray x = train.images(step, order, from, n, spec.item());
                            NDArray y = train.labels(step, order, from, n);
                            try (GradientCollector collector = trainer.newGradientCollector()) {
                                NDArray logits = trainer.forward(new NDList(x)).singletonOrThrow();
                                collector.backward(trainer.getLoss().evaluate(new NDList(y), new NDList(logits)));
                            }
                            trainer.step();  // Adam; DJL's PyTorch engine zeroes each gradient after its update
                        }
                        samples += n;
                    }
                    seconds += (System.nanoTime() - t0) / 1e9;
                }
                return new Result(samples, seconds, Map.of("test_accuracy", accuracy(trainer, test, spec.item())));
            }
        }
    }

    private static double accuracy(Trainer trainer, FashionMnist test, Shape item) {
        int[] order = test.inOrder();
        long correct = 0;
        for (int from = 0; from < test.count(); from += 1000) {
            int n = Math.min(1000, test.count() - from);
            try (NDManager batch = trainer.getManager().newSubManager()) {
                NDArray logits = trainer.evaluate(new NDList(test.images(batch, order, from, n, item))).singletonOrThrow();
                correct += logits.argMax(1).eq(test.labels(batch, order, from, n)).countNonzero().getLong();
            }
        }
        return (double) correct / test.count();
    }
}

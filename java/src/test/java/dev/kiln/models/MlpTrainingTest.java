package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.data.FashionMnist;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Adam;
import dev.kiln.optim.LrSchedule;
import dev.kiln.train.Classification;
import dev.kiln.train.EpochStats;
import dev.kiln.train.Trainer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The first model end to end on the real Fashion-MNIST: 784-256-10, Adam 1e-3, batch 64, 2 epochs on the CPU. */
class MlpTrainingTest {
    static void requireData() {
        boolean required = System.getenv("KILN_REQUIRE_DATA") != null;
        if (!FashionMnist.isAvailable()) {
            String msg = "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist); training test SKIPPED";
            if (required) throw new AssertionError(msg.replace("SKIPPED", "required by KILN_REQUIRE_DATA"));
            System.out.println("[kiln] " + msg);
        }
        Assumptions.assumeTrue(FashionMnist.isAvailable());
    }

    @Test
    void reaches84PercentInTwoEpochs() {
        requireData();
        Dataset train = FashionMnist.load(FashionMnist.Split.TRAIN);
        Dataset test = FashionMnist.load(FashionMnist.Split.TEST);
        assertEquals(60_000, train.count());
        assertEquals(10_000, test.count());
        Device cpu = Device.cpu();
        try (Mlp mlp = Mlp.fashionMnist(cpu, new Generator(42)); Adam adam = new Adam(mlp.parameters(), 1e-3f)) {
            BatchLoader loader = new BatchLoader(train, 64, true, 42, cpu);
            long t0 = System.nanoTime();
            Trainer trainer = new Trainer(mlp, adam);
            double loss = 0;
            for (int epoch = 1; epoch <= 2; epoch++) loss = trainer.epoch(epoch, loader, Classification.step(mlp)).mean("loss");
            double seconds = (System.nanoTime() - t0) / 1e9;
            double accuracy = Classification.accuracy(mlp, test, 1000, cpu);
            System.out.printf("[kiln] MLP 2 epochs on cpu: train loss %.4f, test accuracy %.2f%%, %.1fs (%.0f samples/s)%n",
                    loss, 100 * accuracy, seconds, 120_000 / seconds);
            assertTrue(accuracy >= 0.84, "test accuracy " + accuracy);
            assertTrue(loss < 0.5, "train loss " + loss);
        }
    }

    /** README's training loop as written there (a custom step, a warmup-cosine schedule), on the CPU. */
    @Test
    void theReadmeTrainingLoop() {
        requireData();
        Device device = Device.cpu();
        double[] last = new double[2];
        // From here to the end of the try, the README's text.
        Dataset train = FashionMnist.load(FashionMnist.Split.TRAIN), test = FashionMnist.load(FashionMnist.Split.TEST);
        BatchLoader loader = new BatchLoader(train, 64, true, 42, device);  // a seeded permutation per epoch
        int epochs = 3;
        try (Mlp model = Mlp.fashionMnist(device, new Generator(42)); Adam adam = new Adam(model.parameters(), 1e-3f)) {
            adam.schedule(LrSchedule.warmupCosine(100, epochs * loader.batchesPerEpoch(), 0.1));
            Trainer trainer = new Trainer(model, adam);                     // trainer.requestStop(): end after this step
            for (int e = 1; e <= epochs; e++) {
                EpochStats stats = trainer.epoch(e, loader, (batch, step) -> {
                    Tensor loss = Ops.crossEntropy(model.forward(batch.x()), batch.y());
                    step.minimize(loss);                                    // zero_grad, backward, optimizer step
                    step.log("loss", loss);
                });
                System.out.printf("epoch %d: loss %.4f, test accuracy %.4f%n", e, stats.mean("loss"),
                        Classification.accuracy(model, test, 1000, device));
                last[0] = stats.mean("loss");
                last[1] = Classification.accuracy(model, test, 1000, device);
            }
        }
        assertTrue(last[1] >= 0.85, "test accuracy " + last[1]);  // 86.92% here
        assertTrue(last[0] < 0.36, "train loss " + last[0]);       // 0.3323 here
    }
}

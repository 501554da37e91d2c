package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.data.FashionMnist;
import dev.kiln.optim.Adam;
import dev.kiln.train.Classification;
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
}

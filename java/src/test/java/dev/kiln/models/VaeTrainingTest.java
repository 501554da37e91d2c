package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.data.FashionMnist;
import dev.kiln.optim.Adam;
import dev.kiln.train.EpochStats;
import dev.kiln.train.Trainer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The VAE (latent 20, Adam 1e-3, batch 128) on real Fashion-MNIST through the general trainer: its reconstruction and
 * KL parts are logged separately and add up to the loss, and the test negative ELBO falls below a bar. The full
 * recipe is 10 epochs (246 nats or better; PyTorch reaches 244.0 on this machine); CI runs KILN_VAE_EPOCHS (default 3)
 * against a bar set from the measured 3-epoch figure plus a margin.
 */
class VaeTrainingTest {
    @Test
    void negativeElboFalls() {
        MlpTrainingTest.requireData();
        int epochs = Integer.parseInt(System.getenv().getOrDefault("KILN_VAE_EPOCHS", "3"));
        Dataset train = FashionMnist.load(FashionMnist.Split.TRAIN);
        Dataset test = FashionMnist.load(FashionMnist.Split.TEST);
        Device cpu = Device.cpu();
        try (Vae vae = Vae.fashionMnist(20, cpu, new Generator(42)); Adam adam = new Adam(vae.parameters(), 1e-3f)) {
            Vae.Elbo before = vae.evaluate(test, 1000, cpu, 7);
            Trainer trainer = new Trainer(vae, adam);
            BatchLoader loader = new BatchLoader(train, 128, true, 42, cpu);
            long t0 = System.nanoTime();
            EpochStats last = null;
            for (int e = 1; e <= epochs; e++) {
                last = trainer.epoch(e, loader, vae.step());
                assertEquals(last.mean("loss"), last.mean("recon") + last.mean("kl"), 1e-3 * last.mean("loss"),
                        "the loss is its two parts");
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            Vae.Elbo after = vae.evaluate(test, 1000, cpu, 7);
            System.out.printf("[kiln] VAE latent 20, %d epochs on cpu: test -ELBO %.2f nats (recon %.2f + KL %.2f), "
                    + "from %.1f untrained; %.1fs (%.0f samples/s)%n", epochs, after.negativeElbo(), after.reconstruction(),
                    after.kl(), before.negativeElbo(), seconds, 60_000.0 * epochs / seconds);
            assertTrue(before.negativeElbo() > 500, "untrained: " + before);
            double bar = epochs >= 10 ? 246 : epochs >= 3 ? 252 : 275;  // measured: 244.07 after 10, 250.44 after 3
            assertTrue(after.negativeElbo() <= bar, "test negative ELBO " + after + " after " + epochs + " epochs; bar " + bar);
            assertTrue(after.kl() > 5, "the posterior is used (no collapse): KL " + after.kl());
        }
    }
}

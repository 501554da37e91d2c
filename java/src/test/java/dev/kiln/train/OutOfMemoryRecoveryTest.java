package dev.kiln.train;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.KilnOutOfMemoryException;
import dev.kiln.MemoryStats;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.models.Mlp;
import dev.kiln.optim.Adam;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Iterator;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Out of memory in the middle of an epoch is an exception the caller can recover from: with a memory limit set
 * between two steps, the next step fails with a {@link KilnOutOfMemoryException} whose message carries the numbers;
 * with the limit removed, training resumes where it stopped and the loss stays finite.
 */
class OutOfMemoryRecoveryTest {
    private final Device cpu = Device.cpu();

    @AfterEach
    void removeLimit() {
        cpu.setMemoryLimit(0);
    }

    @Test
    void stepFailsUnderTheLimitAndTrainingContinuesWithoutIt() {
        int n = 640, batch = 64, failAt = 4;
        float[] x = new float[n * 784];
        int[] y = new int[n];
        for (int i = 0; i < x.length; i++) x[i] = (i * 31 % 97) / 97f;
        for (int i = 0; i < n; i++) y[i] = i % 10;
        Dataset data = new Dataset("synthetic", x, new int[] {1, 28, 28}, y, 10);
        try (Mlp mlp = Mlp.fashionMnist(cpu, new Generator(1)); Adam adam = new Adam(mlp.parameters(), 1e-3f)) {
            BatchLoader loader = new BatchLoader(data, batch, true, 1, cpu);
            Trainer trainer = new Trainer(mlp, adam);
            TrainStep<BatchLoader.Batch> classify = Classification.step(mlp);
            AtomicInteger steps = new AtomicInteger();
            long[] limit = new long[1];
            TrainStep<BatchLoader.Batch> step = (b, context) -> {
                if (steps.incrementAndGet() == failAt) {
                    // Mid-epoch, with the step's batch already on the device: leave no room for its activations. The
                    // cache would serve them (same shapes every step), so it is emptied; the limit then refuses them.
                    cpu.emptyCache();
                    MemoryStats now = cpu.memoryStats();
                    limit[0] = now.bytesReserved() + 1024;
                    cpu.setMemoryLimit(limit[0]);
                }
                classify.run(b, context);
            };

            Iterator<BatchLoader.Batch> batches = loader.epoch().iterator();
            KilnOutOfMemoryException oom = assertThrows(KilnOutOfMemoryException.class,
                    () -> trainer.epoch(1, batches, loader.batchesPerEpoch(), BatchLoader.Batch::size, step));
            assertEquals(failAt, steps.get(), "the step that ran under the limit failed");
            String message = oom.getMessage();
            assertTrue(message.matches("(?s).*\\b\\d+ bytes requested\\b.*"), "names the request: " + message);
            assertTrue(message.matches("(?s).*\\blive: \\d+ bytes\\b.*"), "names the live bytes: " + message);
            assertTrue(message.contains("limit " + limit[0] + " bytes"), "names the limit: " + message);

            // The device is still usable: without the limit the remaining batches of the epoch train normally.
            cpu.setMemoryLimit(0);
            EpochStats rest = trainer.epoch(1, batches, loader.batchesPerEpoch(), BatchLoader.Batch::size, step);
            assertEquals(loader.batchesPerEpoch(), steps.get(), "every batch after the failure was trained");
            assertTrue(Double.isFinite(rest.mean("loss")), "loss after recovery: " + rest.mean("loss"));
            EpochStats next = trainer.epoch(2, loader, classify);
            assertTrue(Double.isFinite(next.mean("loss")), "loss of the next epoch: " + next.mean("loss"));
            assertTrue(next.mean("loss") < 2.5, "still learning: " + next.mean("loss"));
        }
    }
}

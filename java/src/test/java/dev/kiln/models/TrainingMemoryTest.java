package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.MemoryStats;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.ops.Autograd;
import dev.kiln.optim.Adam;
import dev.kiln.train.Classification;
import dev.kiln.train.Trainer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Native memory in a training loop is flat: after the first epoch (which creates gradients and optimizer state),
 * further epochs end with exactly the same live allocations and bytes, batches included. */
class TrainingMemoryTest {
    @Test
    void epochsLeaveNothingBehind() {
        int n = 300;
        float[] x = new float[n * 784];
        int[] y = new int[n];
        for (int i = 0; i < x.length; i++) x[i] = (i * 31 % 97) / 97f;
        for (int i = 0; i < n; i++) y[i] = i % 10;
        Dataset data = new Dataset("synthetic", x, new int[] {1, 28, 28}, y, 10);
        Device cpu = Device.cpu();
        try (Mlp mlp = Mlp.fashionMnist(cpu, new Generator(1)); Adam adam = new Adam(mlp.parameters(), 1e-3f)) {
            BatchLoader loader = new BatchLoader(data, 64, true, 1, cpu);
            Trainer trainer = new Trainer(mlp, adam);
            trainer.epoch(1, loader, Classification.step(mlp));
            MemoryStats after1 = cpu.memoryStats();
            for (int epoch = 2; epoch <= 4; epoch++) trainer.epoch(epoch, loader, Classification.step(mlp));
            Classification.accuracy(mlp, data, 100, cpu);
            MemoryStats after4 = cpu.memoryStats();
            assertEquals(after1.liveAllocations(), after4.liveAllocations(), "live allocations");
            assertEquals(after1.bytesInUse(), after4.bytesInUse(), "bytes in use");
            assertEquals(0, Autograd.tapeSize());
        }
    }
}

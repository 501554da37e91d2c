// Memory over 300 training steps of the MLP: the allocator's live bytes are exactly flat after the first 100 steps,
// and the process RSS stays within a loose bound (the long run is bench/.../MemoryOverTime).
package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.MemoryStats;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.ops.Autograd;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Adam;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryOverTimeTest {
    /**
     * RSS bound, relative to the RSS at step 100. RSS counts the JVM's heap, code cache and GC bookkeeping, which move
     * by megabytes on their own schedule: on the 2-core CI machine it moved by up to 2.3% (about 5 MiB, both ways) over
     * 200 steps. 5% is loose enough for that and still catches a real leak (one leaked 64-image batch per step is
     * 200 KiB: 40 MiB, about 17%, over 200 steps). The live bytes, by contrast, must not move at all.
     */
    private static final double RSS_TOLERANCE = 0.05;

    @Test
    void liveBytesAreFlatAndRssStaysNear() throws IOException {
        int n = 640;
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        float[] x = new float[n * 784];
        int[] y = new int[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
        for (int i = 0; i < n; i++) y[i] = i % 10;
        Dataset data = new Dataset("synthetic", x, new int[] {1, 28, 28}, y, 10);
        Device cpu = Device.cpu();
        MemoryStats base = null;
        long baseRss = 0;
        StringBuilder table = new StringBuilder("[kiln] MemoryOverTimeTest: step, live bytes, live allocations, RSS KiB\n");
        try (Mlp mlp = Mlp.fashionMnist(cpu, new Generator(1)); Adam adam = new Adam(mlp.parameters(), 1e-3f)) {
            BatchLoader loader = new BatchLoader(data, 64, true, 1, cpu);
            Iterator<BatchLoader.Batch> batches = loader.epoch().iterator();
            for (int step = 1; step <= 300; step++) {
                try (Scope s = Scope.open()) {
                    if (!batches.hasNext()) batches = loader.epoch().iterator();
                    BatchLoader.Batch b = batches.next();
                    Tensor loss = Ops.crossEntropy(mlp.forward(b.x()), b.y());
                    adam.zeroGrad();
                    loss.backward();
                    adam.step();
                }
                if (step % 100 == 0) {
                    MemoryStats m = cpu.memoryStats();
                    long rss = rssKiB();
                    table.append(String.format("  %d, %d, %d, %d%n", step, m.bytesInUse(), m.liveAllocations(), rss));
                    if (base == null) {
                        base = m;
                        baseRss = rss;
                    } else {
                        assertEquals(base.bytesInUse(), m.bytesInUse(), "live bytes at step " + step + " against step 100");
                        assertEquals(base.liveAllocations(), m.liveAllocations(), "live allocations at step " + step);
                        assertEquals(base.bytesReserved(), m.bytesReserved(), "the allocator's cache stopped growing");
                        if (baseRss > 0) {
                            double drift = Math.abs(rss - baseRss) / (double) baseRss;
                            assertTrue(drift <= RSS_TOLERANCE, "RSS " + rss + " KiB at step " + step + " against " + baseRss
                                    + " KiB at step 100: drift " + drift);
                        }
                    }
                }
            }
            assertEquals(0, Autograd.tapeSize());
        }
        System.out.print(table);
    }

    static long rssKiB() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) return -1;
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return -1;
    }
}

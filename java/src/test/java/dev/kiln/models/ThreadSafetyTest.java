// The thread-safety model, tested: one model shared read-only by four inference threads, and two models trained
// in two threads at once, give bit for bit what one thread gives.
package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.ops.Autograd;
import dev.kiln.ops.NoGrad;
import dev.kiln.optim.Adam;
import dev.kiln.train.Classification;
import dev.kiln.train.Trainer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ThreadSafetyTest {
    private static float[] images(int n, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] x = new float[n * 784];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
        return x;
    }

    /** The bits of a float array, so that a comparison is exact (and -0 differs from 0, NaN from NaN payloads). */
    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) b[i] = Float.floatToRawIntBits(v[i]);
        return b;
    }

    private static <T> List<T> runTogether(List<Callable<T>> jobs) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(jobs.size());
        CyclicBarrier start = new CyclicBarrier(jobs.size());  // all threads in their native calls at the same time
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (Callable<T> job : jobs) futures.add(pool.submit(() -> {
                start.await();
                return job.call();
            }));
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) out.add(f.get(5, TimeUnit.MINUTES));
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void oneModelServesFourInferenceThreadsBitForBit() throws Exception {
        float[] x = images(16, 7);
        try (Cnn cnn = Cnn.fashionMnist(Device.cpu(), new Generator(1))) {
            cnn.eval();
            Callable<int[][]> infer = () -> {
                int[][] out = new int[5][];
                try (NoGrad off = Autograd.noGrad()) {  // grad mode is per thread: each thread says it for itself
                    for (int rep = 0; rep < out.length; rep++) {
                        try (Scope s = Scope.open()) {
                            out[rep] = bits(cnn.forward(Tensor.of(x, 16, 1, 28, 28)).toFloatArray());
                        }
                    }
                }
                assertEquals(0, Autograd.tapeSize());
                return out;
            };
            int[] alone = infer.call()[0];
            List<Callable<int[][]>> jobs = new ArrayList<>();
            for (int t = 0; t < 4; t++) jobs.add(infer);
            List<int[][]> results = runTogether(jobs);
            for (int t = 0; t < results.size(); t++) {
                for (int rep = 0; rep < results.get(t).length; rep++) {
                    assertArrayEquals(alone, results.get(t)[rep], "thread " + t + ", repetition " + rep);
                }
            }
        }
    }

    /** Three epochs of the MLP on 640 synthetic images (60 steps); returns every parameter's bits by name. */
    private static Map<String, int[]> train(long dataSeed) {
        int n = 640;
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = (int) ((i * 7 + dataSeed) % 10);
        Dataset data = new Dataset("synthetic-" + dataSeed, images(n, dataSeed), new int[] {1, 28, 28}, y, 10);
        try (Mlp mlp = Mlp.fashionMnist(Device.cpu(), new Generator(dataSeed)); Adam adam = new Adam(mlp.parameters(), 1e-3f)) {
            BatchLoader loader = new BatchLoader(data, 32, true, dataSeed, Device.cpu());
            Trainer trainer = new Trainer(mlp, adam);
            for (int epoch = 1; epoch <= 3; epoch++) trainer.epoch(epoch, loader, Classification.step(mlp));
            Map<String, int[]> weights = new java.util.TreeMap<>();
            mlp.namedParameters().forEach((name, t) -> weights.put(name, bits(t.toFloatArray())));
            assertEquals(0, Autograd.tapeSize());
            return weights;
        }
    }

    @Test
    void twoModelsTrainedInTwoThreadsMatchTrainingEachAlone() throws Exception {
        Map<String, int[]> aloneA = train(11), aloneB = train(12);
        List<Map<String, int[]>> together = runTogether(List.of(() -> train(11), () -> train(12)));
        for (String name : aloneA.keySet()) {
            assertArrayEquals(aloneA.get(name), together.get(0).get(name), "model A, " + name);
            assertArrayEquals(aloneB.get(name), together.get(1).get(name), "model B, " + name);
        }
        // The two models did differ (different seeds and data): the comparison above is not between equal things.
        assertEquals(false, java.util.Arrays.equals(aloneA.get("net.0.weight"), aloneB.get("net.0.weight")));
    }
}

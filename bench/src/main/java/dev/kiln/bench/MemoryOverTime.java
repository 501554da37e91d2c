// Memory over a long training run: the allocator's live bytes and the process RSS every 1,000 steps of the CNN,
// and whether both stay flat after the first 1,000. A benchmark (a plain main), not a unit test:
//   java -cp bench/target/benchmarks.jar dev.kiln.bench.MemoryOverTime --steps 10000 [--model cnn|mlp] [--batch 64]
package dev.kiln.bench;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.MemoryStats;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.data.FashionMnist;
import dev.kiln.models.Cnn;
import dev.kiln.models.Mlp;
import dev.kiln.nn.Layer;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Adam;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * The loop is the trainer's: one {@link Scope} per step, Adam, cross entropy. "Flat" means every sample after the
 * baseline (the one at the end of the first interval, once gradients, optimizer state and the allocator's cache
 * exist) is within 1% of the baseline, for live bytes and for RSS separately. The RSS includes the JVM's heap:
 * between collections the collector hands out fresh regions of its committed heap, and a page once touched stays
 * resident, so with default flags RSS climbs until the committed heap has all been used once, then stays put, with no
 * native leak at all. {@code -Xms512m -Xmx512m -XX:+AlwaysPreTouch} touches the heap up front, which leaves the RSS to
 * show the rest of the process.
 */
public final class MemoryOverTime {
    private MemoryOverTime() {
    }

    record Sample(long step, long liveBytes, long liveAllocations, long reservedBytes, long rssKiB, long heapUsedKiB,
                  long heapCommittedKiB, double seconds, float loss) {
    }

    public static void main(String[] args) throws IOException {
        int steps = 10_000, every = 1_000, batch = 64;
        String model = "cnn";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--every" -> every = Integer.parseInt(args[++i]);
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--model" -> model = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (expected --steps N, --every N, --batch N, --model cnn|mlp)");
            }
        }
        Device cpu = Device.cpu();
        Dataset data = FashionMnist.isAvailable() ? FashionMnist.load(FashionMnist.Split.TRAIN) : synthetic(6000);
        System.out.printf(Locale.ROOT, "MemoryOverTime: %s, %d steps of batch %d on %s, data %s (%d images)%n",
                model, steps, batch, cpu, data.name(), data.count());
        List<Sample> samples = new ArrayList<>();
        try (Layer net = model.equals("mlp") ? Mlp.fashionMnist(cpu, new Generator(1)) : Cnn.fashionMnist(cpu, new Generator(1));
             Adam adam = new Adam(net.parameters(), 1e-3f)) {
            BatchLoader loader = new BatchLoader(data, batch, true, 1, cpu);
            Iterator<BatchLoader.Batch> batches = loader.epoch().iterator();
            long started = System.nanoTime();
            System.out.printf(Locale.ROOT, "%8s %12s %6s %12s %10s %10s %10s %8s %7s%n", "step", "live bytes", "allocs",
                    "reserved", "RSS KiB", "heap used", "heap comm", "seconds", "loss");
            for (int step = 1; step <= steps; step++) {
                float loss = Float.NaN;
                boolean sample = step % every == 0;
                try (Scope s = Scope.open()) {
                    if (!batches.hasNext()) batches = loader.epoch().iterator();
                    BatchLoader.Batch b = batches.next();
                    Tensor l = Ops.crossEntropy(net.forward(b.x()), b.y());
                    adam.zeroGrad();
                    l.backward();
                    adam.step();
                    if (sample) loss = l.item();
                }
                if (sample) {
                    MemoryStats m = cpu.memoryStats();
                    Runtime rt = Runtime.getRuntime();
                    Sample x = new Sample(step, m.bytesInUse(), m.liveAllocations(), m.bytesReserved(), rssKiB(),
                            (rt.totalMemory() - rt.freeMemory()) / 1024, rt.totalMemory() / 1024,
                            (System.nanoTime() - started) / 1e9, loss);
                    samples.add(x);
                    System.out.printf(Locale.ROOT, "%8d %12d %6d %12d %10d %10d %10d %8.1f %7.4f%n", x.step(),
                            x.liveBytes(), x.liveAllocations(), x.reservedBytes(), x.rssKiB(), x.heapUsedKiB(),
                            x.heapCommittedKiB(), x.seconds(), x.loss());
                }
            }
        }
        verdict(samples);
    }

    /** Compares every sample after the first with the first, for live bytes and for RSS. */
    static void verdict(List<Sample> samples) {
        if (samples.size() < 2) {
            System.out.println("verdict: too few samples (run more steps than one interval)");
            return;
        }
        Sample base = samples.get(0);
        double liveDev = 0, rssDev = 0;
        for (Sample s : samples.subList(1, samples.size())) {
            liveDev = Math.max(liveDev, Math.abs(s.liveBytes() - base.liveBytes()) / (double) base.liveBytes());
            rssDev = Math.max(rssDev, Math.abs(s.rssKiB() - base.rssKiB()) / (double) base.rssKiB());
        }
        Sample last = samples.get(samples.size() - 1);
        System.out.printf(Locale.ROOT, "live bytes: baseline %d at step %d, largest deviation after it %.4f%% -> %s%n",
                base.liveBytes(), base.step(), 100 * liveDev, liveDev <= 0.01 ? "FLAT (within 1%)" : "NOT flat");
        System.out.printf(Locale.ROOT, "RSS:        baseline %d KiB at step %d, largest deviation after it %.4f%% "
                        + "(last %d KiB) -> %s%n", base.rssKiB(), base.step(), 100 * rssDev, last.rssKiB(),
                rssDev <= 0.01 ? "FLAT (within 1%)" : "NOT flat");
    }

    /** VmRSS of this process in KiB, from /proc/self/status (Linux); -1 where that is unavailable. */
    static long rssKiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    private static Dataset synthetic(int n) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        float[] x = new float[n * 784];
        int[] y = new int[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
        for (int i = 0; i < n; i++) y[i] = i % 10;
        return new Dataset("synthetic", x, new int[] {1, 28, 28}, y, 10);
    }
}

package dev.kiln.data;

import dev.kiln.Device;
import dev.kiln.Tensor;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Mini-batches of a {@link Dataset} as tensors on a device: features (B, itemShape...) f32 and labels (B) int32.
 * With shuffling, each epoch visits the examples in a fresh permutation, so runs are reproducible.
 *
 * <p>The permutation of epoch {@code k} (0-based: the k-th call of {@link #epoch()}) is drawn from a
 * {@link SplittableRandom} seeded by a mix of the seed and k alone, not from one stream running across epochs. The
 * loader's whole state is therefore (seed, epochs started): a run resumed after k epochs calls {@link #startAt}(k) and
 * sees the permutations the uninterrupted run would have seen, with nothing else saved.
 *
 * <p>The last batch may be smaller. Each batch is allocated in the scope that is current when the iterator's
 * {@code next()} runs: call it inside the step's scope so the batch is freed with the step.
 */
public final class BatchLoader {
    /** One batch; both tensors belong to the scope that was current when the batch was produced. */
    public record Batch(Tensor x, Tensor y, int size) {
    }

    private final Dataset data;
    private final int batchSize;
    private final boolean shuffle;
    private final Device device;
    private final long seed;
    private long epochsStarted;
    private final float[] xBuffer;
    private final int[] yBuffer;

    /**
     * Batches of {@code batchSize} (positive) examples of {@code data} on {@code device}; when {@code shuffle}, each
     * epoch's permutation derives from {@code seed}.
     */
    public BatchLoader(Dataset data, int batchSize, boolean shuffle, long seed, Device device) {
        if (batchSize <= 0) throw new IllegalArgumentException("BatchLoader: batch size must be positive, got " + batchSize);
        this.data = data;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.device = device;
        this.seed = seed;
        // No batch holds more examples than the data set: a batch size past it (even Integer.MAX_VALUE) is one batch.
        int largest = Math.min(batchSize, data.count());
        this.xBuffer = new float[Math.multiplyExact(largest, data.itemSize())];
        this.yBuffer = new int[largest];
    }

    /** Number of batches in one epoch, the last one possibly smaller. */
    public int batchesPerEpoch() {
        return data.count() == 0 ? 0 : (data.count() - 1) / batchSize + 1;  // a ceiling that cannot overflow
    }

    /** The data set batched. */
    public Dataset dataset() {
        return data;
    }

    /** The seed the epochs' permutations derive from. */
    public long seed() {
        return seed;
    }

    /** How many epochs {@link #epoch()} has handed out (or {@link #startAt} set): the index of the next one. */
    public long epochsStarted() {
        return epochsStarted;
    }

    /** Makes the next {@link #epoch()} the epoch with 0-based index {@code epochs}: how a resumed run continues. */
    public void startAt(long epochs) {
        if (epochs < 0) throw new IllegalArgumentException("BatchLoader.startAt: epochs must be >= 0, got " + epochs);
        this.epochsStarted = epochs;
    }

    /** The batches of the next epoch (a new permutation each call when shuffling, see the class comment). */
    public Iterable<Batch> epoch() {
        return epoch(0);
    }

    /**
     * The next epoch's batches from batch {@code firstBatch} (0-based) on: the rest of an epoch that a resumed run
     * had trained part of. The batches are those {@link #epoch()} would give after its first {@code firstBatch}.
     */
    public Iterable<Batch> epoch(int firstBatch) {
        if (firstBatch < 0 || firstBatch > batchesPerEpoch()) {
            throw new IllegalArgumentException("BatchLoader.epoch: firstBatch must be in 0.." + batchesPerEpoch() + ", got " + firstBatch);
        }
        int first = (int) Math.min((long) firstBatch * batchSize, data.count());
        long index = epochsStarted++;
        int n = data.count();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        if (shuffle) {
            SplittableRandom random = new SplittableRandom(epochSeed(seed, index));
            for (int i = n - 1; i > 0; i--) {  // Fisher-Yates
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return () -> new Iterator<>() {
            private int next = first;

            @Override
            public boolean hasNext() {
                return next < n;
            }

            @Override
            public Batch next() {
                if (!hasNext()) throw new NoSuchElementException();
                int size = Math.min(batchSize, n - next);
                int item = data.itemSize();
                for (int b = 0; b < size; b++) {
                    int src = order[next + b];
                    System.arraycopy(data.features(), src * item, xBuffer, b * item, item);
                    yBuffer[b] = data.labels()[src];
                }
                next += size;
                int[] shape = new int[data.itemShape().length + 1];
                shape[0] = size;
                System.arraycopy(data.itemShape(), 0, shape, 1, data.itemShape().length);
                Tensor x = Tensor.empty(device, shape);
                x.copyFrom(xBuffer, 0);
                Tensor y = Tensor.ofInts(device, java.util.Arrays.copyOf(yBuffer, size), size);
                return new Batch(x, y, size);
            }
        };
    }

    /**
     * The seed of epoch {@code index}'s permutation: SplitMix64's finalizer over the seed and the mixed index, so
     * neighbouring seeds or epochs do not give shifted copies of one stream (SplittableRandom(s) and
     * SplittableRandom(s + gamma) would).
     */
    static long epochSeed(long seed, long index) {
        return mix64(seed ^ mix64(index + 0x9E3779B97F4A7C15L));
    }

    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

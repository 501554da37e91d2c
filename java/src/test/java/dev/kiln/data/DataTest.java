package dev.kiln.data;

import dev.kiln.Device;
import dev.kiln.Scope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataTest {
    /** An IDX file's bytes: magic (unsigned bytes, rank), the dims, then data (IdxTest crafts bad headers with it). */
    static byte[] idx(int[] dims, byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(0x0800 | dims.length);
        for (int d : dims) out.writeInt(d);
        out.write(data);
        return bytes.toByteArray();
    }

    @Test
    void readsGzippedAndPlainIdx(@TempDir Path dir) throws IOException {
        byte[] payload = {0, 1, (byte) 255, 7, 8, 9};
        Path plain = Files.write(dir.resolve("a-idx3-ubyte"), idx(new int[] {2, 1, 3}, payload));
        Path gz = dir.resolve("a-idx3-ubyte.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write(idx(new int[] {2, 1, 3}, payload));
        }
        for (Path p : new Path[] {plain, gz}) {
            Idx.UByteArray a = Idx.read(p);
            assertArrayEquals(new int[] {2, 1, 3}, a.dims());
            assertArrayEquals(payload, a.data());
            assertEquals(3, a.itemSize());
        }
        Path truncated = Files.write(dir.resolve("t"), java.util.Arrays.copyOf(idx(new int[] {4}, new byte[4]), 9));
        IOException e = assertThrows(IOException.class, () -> Idx.read(truncated));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Path wrong = Files.write(dir.resolve("w"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        assertThrows(IOException.class, () -> Idx.read(wrong));
    }

    @Test
    void loaderVisitsEveryExampleOncePerEpochInASeededOrder() {
        int n = 103;
        float[] features = new float[n * 2];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            features[2 * i] = i;
            features[2 * i + 1] = -i;
            labels[i] = i % 10;
        }
        Dataset data = new Dataset("toy", features, new int[] {2}, labels, 10);
        int[] firstOrder = order(new BatchLoader(data, 10, true, 7, Device.cpu()));
        assertArrayEquals(firstOrder, order(new BatchLoader(data, 10, true, 7, Device.cpu())), "same seed, same order");
        assertNotEquals(java.util.Arrays.toString(firstOrder), java.util.Arrays.toString(order(new BatchLoader(data, 10, true, 8, Device.cpu()))));
        int[] sorted = firstOrder.clone();
        java.util.Arrays.sort(sorted);
        for (int i = 0; i < n; i++) assertEquals(i, sorted[i]);
        assertEquals(11, new BatchLoader(data, 10, false, 0, Device.cpu()).batchesPerEpoch());
    }

    /** A batch size past the data set (up to Integer.MAX_VALUE) is one batch of the whole set, not an overflow. */
    @Test
    void aBatchLargerThanTheDataIsTheWholeSet() {
        Dataset data = new Dataset("two", new float[] {1, 2, 3, 4}, new int[] {2}, new int[] {0, 1}, 2);
        for (int batch : new int[] {3, 3_000_000, Integer.MAX_VALUE}) {
            BatchLoader loader = new BatchLoader(data, batch, true, 1, Device.cpu());
            assertEquals(1, loader.batchesPerEpoch());
            int batches = 0;
            try (Scope s = Scope.open()) {
                for (BatchLoader.Batch b : loader.epoch()) {
                    assertEquals(2, b.size());
                    assertArrayEquals(new int[] {2, 2}, b.x().shape());
                    batches++;
                }
            }
            assertEquals(1, batches);
        }
    }

    /** Epoch k's permutation depends on (seed, k) alone: a loader started at k sees what one that ran k epochs sees. */
    @Test
    void loaderStartedAtAnEpochRepeatsThatEpochsOrder() {
        int n = 57;
        float[] features = new float[n * 2];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            features[2 * i] = i;
            features[2 * i + 1] = -i;
            labels[i] = i % 10;
        }
        Dataset data = new Dataset("toy", features, new int[] {2}, labels, 10);
        BatchLoader running = new BatchLoader(data, 8, true, 11, Device.cpu());
        int[][] epochs = new int[4][];
        for (int e = 0; e < epochs.length; e++) epochs[e] = order(running);
        assertEquals(4, running.epochsStarted());
        assertNotEquals(java.util.Arrays.toString(epochs[1]), java.util.Arrays.toString(epochs[2]), "each epoch reshuffles");
        for (int e = 0; e < epochs.length; e++) {
            BatchLoader resumed = new BatchLoader(data, 8, true, 11, Device.cpu());
            resumed.startAt(e);
            assertArrayEquals(epochs[e], order(resumed), "epoch " + e);
            // Part-way through: the rest of the epoch, from batch 3 (0-based) on, is the same order's tail.
            resumed.startAt(e);
            assertArrayEquals(java.util.Arrays.copyOfRange(epochs[e], 3 * 8, n), order(resumed.epoch(3).iterator(), n - 3 * 8),
                    "epoch " + e + " from batch 3");
        }
        BatchLoader last = new BatchLoader(data, 8, true, 11, Device.cpu());
        assertFalse(last.epoch(8).iterator().hasNext(), "from batch 8 of 8: nothing left");
        assertThrows(IllegalArgumentException.class, () -> last.epoch(9));
        assertThrows(IllegalArgumentException.class, () -> last.epoch(-1));
        assertEquals(7, data.head(7).count());
        assertEquals(-6f, data.head(7).features()[13]);
    }

    private static int[] order(BatchLoader loader) {
        return order(loader.epoch().iterator(), loader.dataset().count());
    }

    /** The ids of the {@code count} examples {@code it} gives, in order (each example's features are (id, -id)). */
    private static int[] order(java.util.Iterator<BatchLoader.Batch> it, int count) {
        int[] seen = new int[count];
        int k = 0;
        while (it.hasNext()) {
            try (Scope s = Scope.open()) {
                BatchLoader.Batch b = it.next();
                float[] x = b.x().toFloatArray();
                int[] y = b.y().toIntArray();
                for (int i = 0; i < b.size(); i++) {
                    int id = (int) x[2 * i];
                    assertEquals(-id, (int) x[2 * i + 1]);
                    assertEquals(id % 10, y[i]);
                    seen[k++] = id;
                }
            }
        }
        assertEquals(seen.length, k);
        return seen;
    }

    /**
     * Facts of the real files, where they are installed (CI installs them and sets KILN_REQUIRE_DATA=1, which turns a
     * missing data set into a failure instead of a skip): counts, shapes, label range, the per-class balance and the
     * well-known mean pixel of the training images (0.2860 on the [0, 1] scale).
     */
    @Test
    void fashionMnistHasItsPublishedShape() {
        if (!FashionMnist.isAvailable()) {
            if (System.getenv("KILN_REQUIRE_DATA") != null) {
                throw new AssertionError("Fashion-MNIST is required by KILN_REQUIRE_DATA but not found in " + FashionMnist.searchPath());
            }
            org.junit.jupiter.api.Assumptions.assumeTrue(false, "Fashion-MNIST not installed: real-data checks SKIPPED");
        }
        Dataset train = FashionMnist.load(FashionMnist.Split.TRAIN);
        Dataset test = FashionMnist.load(FashionMnist.Split.TEST);
        assertEquals(60000, train.count());
        assertEquals(10000, test.count());
        for (Dataset d : new Dataset[] {train, test}) {
            assertArrayEquals(new int[] {1, 28, 28}, d.itemShape(), d.name());
            assertEquals(784, d.itemSize(), d.name());
            assertEquals(10, d.classes(), d.name());
            assertEquals((long) d.count() * 784, d.features().length, d.name());
            int[] histogram = new int[10];
            for (int y : d.labels()) {
                assertTrue(y >= 0 && y <= 9, d.name() + ": label " + y);
                histogram[y]++;
            }
            int[] balanced = new int[10];
            java.util.Arrays.fill(balanced, d.count() / 10);
            assertArrayEquals(balanced, histogram, d.name() + ": examples per class");
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
            for (float v : d.features()) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            assertEquals(0f, min, d.name() + ": darkest pixel");
            assertEquals(1f, max, d.name() + ": brightest pixel");
        }
        double sum = 0;
        for (float v : train.features()) sum += v;
        assertEquals(0.2860, sum / train.features().length, 0.001, "mean pixel of the training images");
        // The first training image is an ankle boot (label 9) in the published files.
        assertEquals(9, train.labels()[0]);
    }

    @Test
    void missingDataNamesEveryPlaceLookedAt() {
        if (FashionMnist.isAvailable()) return;  // the message is only reachable where the data is absent
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FashionMnist.load(FashionMnist.Split.TRAIN));
        for (Path p : FashionMnist.searchPath()) assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    }
}

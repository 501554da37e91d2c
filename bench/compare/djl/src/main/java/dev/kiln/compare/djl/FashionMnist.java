package dev.kiln.compare.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPInputStream;

/**
 * Fashion-MNIST held in Java arrays, from the files Kiln and torch_models.fashion_mnist read ($KILN_DATA,
 * /usr/share/datasets/fashion-mnist, ~/.cache/kiln/fashion-mnist): pixels scaled to [0, 1], labels as int64 (what
 * DJL's cross-entropy picks with). Batches are gathered from a permutation into one scratch array and copied into a
 * fresh NDArray, as Kiln's BatchLoader and PyTorch's {@code x[perm[i:i + b]]} do, inside the timed loop.
 */
final class FashionMnist {
    static final int PIXELS = 28 * 28;

    private final float[] images;
    private final long[] labels;
    private final int count;
    private final float[] xScratch;
    private final long[] yScratch;

    private FashionMnist(float[] images, long[] labels, int count, int batch) {
        this.images = images;
        this.labels = labels;
        this.count = count;
        this.xScratch = new float[batch * PIXELS];
        this.yScratch = new long[batch];
    }

    /** {@code split} is "train" or "test"; {@code limit} > 0 keeps only the first {@code limit} examples. */
    static FashionMnist load(String split, int limit, int batch) throws IOException {
        String prefix = split.equals("train") ? "train" : "t10k";
        Path dir = find(prefix);
        byte[] img = readIdx(dir.resolve(prefix + "-images-idx3-ubyte.gz"));
        byte[] lab = readIdx(dir.resolve(prefix + "-labels-idx1-ubyte.gz"));
        int n = limit > 0 ? Math.min(limit, lab.length) : lab.length;
        float[] x = new float[n * PIXELS];
        for (int i = 0; i < x.length; i++) x[i] = (img[i] & 0xFF) / 255f;
        long[] y = new long[n];
        for (int i = 0; i < n; i++) y[i] = lab[i] & 0xFF;
        return new FashionMnist(x, y, n, batch);
    }

    int count() {
        return count;
    }

    /** A fresh permutation per epoch (drawn outside the timed loop, as the other two sides do). */
    int[] permutation(long seed, int epoch) {
        int[] order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        SplittableRandom random = new SplittableRandom(seed * 1_000_003L + epoch);
        for (int i = count - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** The images order[from, from + n) as one array of shape (n, itemShape...), owned by {@code manager}. */
    NDArray images(NDManager manager, int[] order, int from, int n, Shape itemShape) {
        for (int i = 0; i < n; i++) System.arraycopy(images, order[from + i] * PIXELS, xScratch, i * PIXELS, PIXELS);
        return manager.create(java.nio.FloatBuffer.wrap(xScratch, 0, n * PIXELS), batchShape(n, itemShape));
    }

    NDArray labels(NDManager manager, int[] order, int from, int n) {
        for (int i = 0; i < n; i++) yScratch[i] = labels[order[from + i]];
        return manager.create(java.nio.LongBuffer.wrap(yScratch, 0, n), new Shape(n));
    }

    /** The identity order, for evaluation in dataset order. */
    int[] inOrder() {
        int[] order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        return order;
    }

    static Shape batchShape(long n, Shape itemShape) {
        return new Shape(n).addAll(itemShape);
    }

    private static Path find(String prefix) {
        List<Path> dirs = new ArrayList<>();
        String env = System.getenv("KILN_DATA");
        if (env != null && !env.isEmpty()) dirs.add(Path.of(env));
        dirs.add(Path.of("/usr/share/datasets/fashion-mnist"));
        dirs.add(Path.of(System.getProperty("user.home"), ".cache", "kiln", "fashion-mnist"));
        for (Path d : dirs) {
            if (Files.exists(d.resolve(prefix + "-images-idx3-ubyte.gz")) && Files.exists(d.resolve(prefix + "-labels-idx1-ubyte.gz"))) {
                return d;
            }
        }
        throw new IllegalStateException("Fashion-MNIST not found in " + dirs + " (apt-get install dataset-fashion-mnist)");
    }

    /** The payload of one gzipped IDX file (big-endian header: magic with the rank in its low byte, then the dims). */
    private static byte[] readIdx(Path path) throws IOException {
        try (InputStream raw = Files.newInputStream(path);
             DataInputStream in = new DataInputStream(new GZIPInputStream(raw, 1 << 16))) {
            int rank = in.readInt() & 0xFF;
            long size = 1;
            for (int i = 0; i < rank; i++) size *= in.readInt();
            byte[] data = new byte[Math.toIntExact(size)];
            in.readFully(data);
            return data;
        }
    }
}

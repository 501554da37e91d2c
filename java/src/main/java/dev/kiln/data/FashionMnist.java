package dev.kiln.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * Fashion-MNIST (Xiao et al.): 60,000 training and 10,000 test images of 28x28 grey pixels in 10 classes.
 * Looked up in {@code $KILN_DATA} (or {@code $KILN_DATA/fashion-mnist}), then {@code /usr/share/datasets/fashion-mnist}
 * (Debian package dataset-fashion-mnist), then {@code ~/.cache/kiln/fashion-mnist}.
 */
public final class FashionMnist {
    /** Number of classes. */
    public static final int CLASSES = 10;
    /** Image height in pixels. */
    public static final int ROWS = 28;
    /** Image width in pixels. */
    public static final int COLS = 28;
    /** The class names, indexed by label. */
    public static final String[] CLASS_NAMES = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
            "Shirt", "Sneaker", "Bag", "Ankle boot"};

    /** The two splits, each a pair of IDX files (images and labels). */
    public enum Split {
        /** The 60,000 training images. */
        TRAIN("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        /** The 10,000 test images. */
        TEST("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");

        final String images;
        final String labels;

        Split(String images, String labels) {
            this.images = images;
            this.labels = labels;
        }
    }

    private FashionMnist() {
    }

    /** Loads a split as pixels scaled to [0, 1]; fails with the list of places looked at when it is missing. */
    public static Dataset load(Split split) {
        Path dir = locate(split);
        try {
            Idx.UByteArray images = Idx.read(find(dir, split.images));
            Idx.UByteArray labels = Idx.read(find(dir, split.labels));
            if (images.dims().length != 3 || images.dims()[1] != ROWS || images.dims()[2] != COLS) {
                throw new IOException("expected images (N, 28, 28), got " + java.util.Arrays.toString(images.dims()));
            }
            if (labels.count() != images.count()) {
                throw new IOException(images.count() + " images but " + labels.count() + " labels");
            }
            int n = images.count(), size = images.itemSize();
            float[] pixels = new float[n * size];
            byte[] raw = images.data();
            for (int i = 0; i < pixels.length; i++) pixels[i] = (raw[i] & 0xff) / 255f;
            int[] y = new int[n];
            for (int i = 0; i < n; i++) {
                y[i] = labels.data()[i] & 0xff;
                if (y[i] >= CLASSES) throw new IOException("label " + y[i] + " at index " + i + " is not a class");
            }
            return new Dataset("fashion-mnist/" + split.name().toLowerCase(), pixels, new int[] {1, ROWS, COLS}, y, CLASSES);
        } catch (IOException e) {
            throw new UncheckedIOException("Fashion-MNIST " + split + " in " + dir + " is unreadable: " + e.getMessage(), e);
        }
    }

    /** The folders searched, in order. */
    public static List<Path> searchPath() {
        List<Path> dirs = new ArrayList<>();
        String env = System.getenv("KILN_DATA");
        if (env != null && !env.isBlank()) {
            dirs.add(Paths.get(env));
            dirs.add(Paths.get(env, "fashion-mnist"));
        }
        dirs.add(Paths.get("/usr/share/datasets/fashion-mnist"));
        dirs.add(Paths.get(System.getProperty("user.home"), ".cache", "kiln", "fashion-mnist"));
        return dirs;
    }

    /** Whether one folder of {@link #searchPath()} holds both splits. */
    public static boolean isAvailable() {
        for (Path d : searchPath()) if (hasSplit(d, Split.TRAIN) && hasSplit(d, Split.TEST)) return true;
        return false;
    }

    private static Path locate(Split split) {
        for (Path d : searchPath()) if (hasSplit(d, split)) return d;
        StringBuilder msg = new StringBuilder("Fashion-MNIST (" + split.name().toLowerCase() + ") not found. Looked in:");
        for (Path d : searchPath()) msg.append("\n  - ").append(d);
        msg.append("\nInstall it with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or put the four IDX files")
                .append(" (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,")
                .append(" t10k-labels-idx1-ubyte.gz) in one of these folders, or point $KILN_DATA at them.");
        throw new IllegalStateException(msg.toString());
    }

    private static boolean hasSplit(Path dir, Split split) {
        return find(dir, split.images) != null && find(dir, split.labels) != null;
    }

    private static Path find(Path dir, String base) {
        for (String name : new String[] {base + ".gz", base}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }
}

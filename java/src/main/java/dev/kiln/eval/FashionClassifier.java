package dev.kiln.eval;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.data.FashionMnist;
import dev.kiln.io.Checkpoints;
import dev.kiln.io.SafeTensors;
import dev.kiln.models.Cnn;
import dev.kiln.optim.Adam;
import dev.kiln.train.Classification;
import dev.kiln.train.Trainer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The feature extractor of {@link ImageScore}: the Fashion-MNIST CNN trained by this library (3 epochs, Adam 1e-3,
 * batch 64, seed 42: about 89% test accuracy), trained once and kept as a checkpoint, so every score uses the same
 * network and no run downloads anything.
 */
public final class FashionClassifier {
    /** Bump when the recipe changes, so an old checkpoint is not mistaken for the new network. */
    static final String RECIPE = "cnn-adam1e-3-b64-e3-seed42-v2";  // v2: per-epoch shuffles seeded by (seed, epoch)

    private FashionClassifier() {
    }

    /** The cached classifier at {@code file}, training and saving it first if the file is missing or of another recipe. */
    public static Cnn load(Path file, Device device) {
        // The recipe is read before any weight is: a file of another recipe must not seed the training,
        // or the network trained and saved under the new recipe would depend on what the cache held before.
        boolean current;
        try {
            current = isCurrent(file);
        } catch (IOException e) {
            throw failed(file, e);
        }
        return current ? made(file, device, cnn -> Checkpoints.loadModule(file, cnn)) : train(file, device);
    }

    /**
     * Trains the classifier from scratch by this recipe, whatever {@code file} holds (on this 2-core CPU about two
     * minutes), saves it there with its test accuracy and returns it.
     */
    public static Cnn train(Path file, Device device) {
        return made(file, device, cnn -> {
            Dataset train = FashionMnist.load(FashionMnist.Split.TRAIN);
            try (Adam adam = new Adam(cnn.parameters(), 1e-3f)) {
                Trainer trainer = new Trainer(cnn, adam);
                BatchLoader loader = new BatchLoader(train, 64, true, 42, device);
                for (int e = 1; e <= 3; e++) trainer.epoch(e, loader, Classification.step(cnn));
            }
            double accuracy = Classification.accuracy(cnn, FashionMnist.load(FashionMnist.Split.TEST), 1000, device);
            Files.createDirectories(file.toAbsolutePath().getParent());
            Checkpoints.saveModule(file, cnn, Map.of("recipe", RECIPE, "test_accuracy", String.format("%.4f", accuracy)));
        });
    }

    /** How the weights of a new, seeded network are filled in: loaded, or trained and saved. */
    private interface Weights {
        void fill(Cnn cnn) throws IOException;
    }

    /** A new network with its weights filled in; closed again if that fails. */
    private static Cnn made(Path file, Device device, Weights weights) {
        Cnn cnn = Cnn.fashionMnist(device, new Generator(42));
        try {
            weights.fill(cnn);
            return cnn;
        } catch (IOException e) {
            cnn.close();
            throw failed(file, e);
        } catch (RuntimeException e) {
            cnn.close();
            throw e;
        }
    }

    private static UncheckedIOException failed(Path file, IOException e) {
        return new UncheckedIOException("FashionClassifier: " + file + ": " + e.getMessage(), e);
    }

    /** Whether {@code file} exists and holds a classifier of this recipe (its header alone is read). */
    static boolean isCurrent(Path file) throws IOException {
        return Files.isRegularFile(file) && RECIPE.equals(SafeTensors.readHeader(file).metadata().get("recipe"));
    }

    /** The default place: ~/.cache/kiln/models/fashion-cnn.safetensors (or under -Dkiln.cache.dir). */
    public static Path defaultFile() {
        String dir = System.getProperty("kiln.cache.dir");
        Path base = dir != null ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".cache", "kiln");
        return base.resolve("models").resolve("fashion-cnn.safetensors");
    }
}

package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.eval.FashionClassifier;
import dev.kiln.models.Cnn;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The CNN whose features score generated images (see {@link dev.kiln.eval.ImageScore}): the cached Fashion-MNIST
 * classifier by default, or a cnn model file that a run was pointed at ({@link TrainCommand#scorer}), which
 * {@code kiln demo --quick} uses to skip training the cached one.
 */
final class ScoringClassifier {
    private ScoringClassifier() {
    }

    /** The classifier on {@code device}; the caller closes it. {@code file} null means the cached one. */
    static Cnn open(Path file, Device device) throws IOException {
        return file == null ? FashionClassifier.load(FashionClassifier.defaultFile(), device)
                : (Cnn) ModelFiles.open("cnn", file, device);
    }

    /** Names the classifier for the log and the report. */
    static String describe(Path file) {
        return file == null
                ? "the cached Fashion-MNIST classifier (" + FashionClassifier.defaultFile() + "; trained on first use)"
                : "the cnn in " + file;
    }
}

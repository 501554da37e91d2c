package dev.kiln.eval;

import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.models.Cnn;
import dev.kiln.ops.Autograd;
import dev.kiln.ops.NoGrad;
import dev.kiln.ops.Ops;

import java.util.Arrays;
import java.util.Iterator;
import java.util.function.IntFunction;

/**
 * A quality score for generated 28 x 28 images that needs no download: a Fashion-MNIST CNN trained by this library is
 * the feature extractor. The Fréchet distance between its penultimate-layer features of generated images and of a
 * reference set (the test images), and the classifier's predicted-class histogram over the generated images (mode
 * coverage: a collapsed generator covers few classes).
 */
public final class ImageScore {
    /** The distance, and how many generated images the classifier put in each class. */
    public record Score(double frechetDistance, long[] classCounts) {
        /** Number of generated images classified: the sum of the class counts. */
        public long total() {
            return Arrays.stream(classCounts).sum();
        }

        /** The smallest share of any class, in [0, 1]. */
        public double minClassFraction() {
            return (double) Arrays.stream(classCounts).min().orElse(0) / Math.max(1, total());
        }

        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT, "FD %.2f, classes %s (min %.1f%%)", frechetDistance,
                    Arrays.toString(classCounts), 100 * minClassFraction());
        }
    }

    private final Cnn classifier;
    private final FrechetDistance.Gaussian reference;
    private final int classes;

    /** Fits the reference Gaussian to the classifier's features of {@code referenceImages} (pixels in [0, 1]). */
    public ImageScore(Cnn classifier, Dataset referenceImages, Device device) {
        this.classifier = classifier;
        this.classes = referenceImages.classes();
        BatchLoader loader = new BatchLoader(referenceImages, 500, false, 0, device);
        Iterator<BatchLoader.Batch> it = loader.epoch().iterator();
        this.reference = score(n -> it.next().x(), referenceImages.count(), null);
    }

    /** The score of {@code count} images, drawn in batches: {@code batch.apply(n)} returns (n, 1, 28, 28) in [0, 1]. */
    public Score score(IntFunction<Tensor> batch, int count) {
        long[] counts = new long[classes];
        FrechetDistance.Gaussian generated = score(batch, count, counts);
        return new Score(FrechetDistance.between(generated, reference), counts);
    }

    /** Features of every image, fitted; the predicted classes counted into {@code counts} when it is not null. */
    private FrechetDistance.Gaussian score(IntFunction<Tensor> batch, int count, long[] counts) {
        double[][] rows = new double[count][];
        boolean wasTraining = classifier.isTraining();
        classifier.eval();
        try (NoGrad off = Autograd.noGrad()) {
            for (int done = 0; done < count; ) {
                int n = Math.min(500, count - done);
                try (Scope s = Scope.open()) {
                    Tensor images = batch.apply(n);
                    if (images.dim(0) != n) throw new IllegalStateException("ImageScore: asked for " + n + " images, got " + images);
                    Tensor features = classifier.features(images);
                    float[] f = features.toFloatArray();
                    int d = features.dim(1);
                    for (int i = 0; i < n; i++) {
                        double[] row = new double[d];
                        for (int j = 0; j < d; j++) row[j] = f[i * d + j];
                        rows[done + i] = row;
                    }
                    if (counts != null) {
                        for (int c : Ops.argmax(classifier.classify(features)).toIntArray()) counts[c]++;
                    }
                }
                done += n;
            }
        } finally {
            classifier.train(wasTraining);
        }
        return FrechetDistance.fit(rows);
    }
}

package dev.kiln.data;

/**
 * An in-memory labelled data set: {@code count} examples of {@code itemShape} floats each, with int labels.
 *
 * @param name      for progress output ("fashion-mnist/train")
 * @param features  (count, itemShape...) row-major
 * @param itemShape shape of one example, e.g. (1, 28, 28)
 * @param labels    (count) class indices
 * @param classes   number of classes
 */
public record Dataset(String name, float[] features, int[] itemShape, int[] labels, int classes) {
    /** Number of examples. */
    public int count() {
        return labels.length;
    }

    /** The first {@code n} examples (all of them when there are no more): a smaller data set for quick runs. */
    public Dataset head(int n) {
        if (n < 0) throw new IllegalArgumentException("Dataset.head: n must be >= 0, got " + n);
        if (n >= count()) return this;
        return new Dataset(name + "[:" + n + "]", java.util.Arrays.copyOf(features, n * itemSize()), itemShape,
                java.util.Arrays.copyOf(labels, n), classes);
    }

    /** Floats per example: the product of {@code itemShape}. */
    public int itemSize() {
        int n = 1;
        for (int d : itemShape) n *= d;
        return n;
    }
}

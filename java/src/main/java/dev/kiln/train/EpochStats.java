package dev.kiln.train;

import java.util.Map;

/**
 * One training epoch: each logged metric's mean over its steps, the samples seen, the wall time, the steps run, and
 * whether {@link Trainer#requestStop()} ended it before its last batch.
 *
 * @param means metric name to mean, in the order the step first logged them
 */
public record EpochStats(int epoch, Map<String, Double> means, long samples, double seconds, int steps, boolean stopped) {
    /** Samples per second of wall time over the epoch. */
    public double samplesPerSecond() {
        return samples / seconds;
    }

    /** The mean of one metric; throws if the step never logged it. */
    public double mean(String metric) {
        Double v = means.get(metric);
        if (v == null) throw new IllegalArgumentException("no metric '" + metric + "' was logged; logged: " + means.keySet());
        return v;
    }
}

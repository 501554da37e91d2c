package dev.kiln.cli;

import dev.kiln.train.EpochStats;
import dev.kiln.train.TrainListener;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects loss curves while training: the mean of each logged metric over every window between two reads of the
 * trainer's running epoch means (every {@link dev.kiln.train.Trainer#READ_INTERVAL} steps), so the curve shows the
 * loss of that stretch of training, not the epoch's average so far. Forwards every event to {@code next}.
 */
final class LossCurves implements TrainListener {
    private final TrainListener next;
    private final int pointEvery;
    private final Map<String, List<Float>> curves = new LinkedHashMap<>();
    private final Map<String, Double> lastSum = new LinkedHashMap<>();
    private final List<Long> steps = new ArrayList<>();
    private long stepsBefore;  // the steps of the finished epochs (or segments), for each point's x
    private int lastBatch;
    private int lastPointBatch;

    /** {@code pointEvery}: steps per point (a multiple of the read interval keeps the windows exact). */
    LossCurves(TrainListener next, int pointEvery) {
        this.next = next;
        this.pointEvery = pointEvery;
    }

    @Override
    public void step(int epoch, int batch, int batches, long samples, Map<String, Double> means) {
        if (next != null) next.step(epoch, batch, batches, samples, means);
        lastBatch = batch;
        if ((batch % pointEvery != 0 && batch != batches) || means.isEmpty() || batch == lastPointBatch) return;
        int since = batch - lastPointBatch;
        for (Map.Entry<String, Double> e : means.entrySet()) {
            double sum = e.getValue() * batch;  // every step logs every metric once
            curves.computeIfAbsent(e.getKey(), k -> new ArrayList<>())
                    .add((float) ((sum - lastSum.getOrDefault(e.getKey(), 0.0)) / since));
            lastSum.put(e.getKey(), sum);
        }
        steps.add(stepsBefore + batch);
        lastPointBatch = batch;
    }

    @Override
    public void epochEnd(EpochStats stats) {
        if (next != null) next.epochEnd(stats);
        // The trainer's running means restart with the next epoch.
        stepsBefore += lastBatch;
        lastBatch = 0;
        lastSum.clear();
        lastPointBatch = 0;
    }

    /** Metric name to its points, in logging order. */
    Map<String, float[]> curves() {
        Map<String, float[]> out = new LinkedHashMap<>();
        curves.forEach((name, points) -> {
            float[] a = new float[points.size()];
            for (int i = 0; i < a.length; i++) a[i] = points.get(i);
            out.put(name, a);
        });
        return out;
    }

    /** The training step (counted over all epochs) at the end of each point's window. */
    long[] steps() {
        return steps.stream().mapToLong(Long::longValue).toArray();
    }

    /** Steps per point, for the chart's axis label. */
    int pointEvery() {
        return pointEvery;
    }
}

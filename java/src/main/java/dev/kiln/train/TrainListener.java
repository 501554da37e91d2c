package dev.kiln.train;

import java.util.Map;

/** Told about training progress (the CLI's progress bar is one). */
public interface TrainListener {
    /**
     * After every step. {@code means} holds each logged metric's mean over the epoch so far, refreshed every
     * {@link Trainer#READ_INTERVAL} steps and at the epoch's end; empty before the first read, so check
     * {@code means.isEmpty()} (or use {@code getOrDefault}) before unboxing a value.
     */
    void step(int epoch, int batch, int batches, long samples, Map<String, Double> means);

    /** After every epoch, stopped or not, with its statistics; does nothing by default. */
    default void epochEnd(EpochStats stats) {
    }
}

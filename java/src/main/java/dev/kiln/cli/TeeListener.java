package dev.kiln.cli;

import dev.kiln.train.EpochStats;
import dev.kiln.train.TrainListener;

import java.util.Map;

/** Two training listeners told the same events in turn: a run's own progress bar, then an observer such as kiln demo. */
final class TeeListener implements TrainListener {
    private final TrainListener first;
    private final TrainListener second;

    private TeeListener(TrainListener first, TrainListener second) {
        this.first = first;
        this.second = second;
    }

    /** {@code own} alone when there is no observer, so a plain {@code kiln train} run pays nothing for the hook. */
    static TrainListener of(TrainListener own, TrainListener observer) {
        return observer == null ? own : new TeeListener(own, observer);
    }

    @Override
    public void step(int epoch, int batch, int batches, long samples, Map<String, Double> means) {
        first.step(epoch, batch, batches, samples, means);
        second.step(epoch, batch, batches, samples, means);
    }

    @Override
    public void epochEnd(EpochStats stats) {
        first.epochEnd(stats);
        second.epochEnd(stats);
    }
}

package dev.kiln.train;

import dev.kiln.Profiler;
import dev.kiln.Scope;
import dev.kiln.data.BatchLoader;
import dev.kiln.nn.Module;
import dev.kiln.optim.Optimizer;

import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * The training loop every model shares: one {@link Scope} per step (so native memory is flat), a {@link TrainStep}
 * that decides what a step computes and which of the trainer's optimizers it updates, logged metrics averaged over
 * the epoch, a divergence check, and a {@link TrainListener} told about progress. Under a {@link Profiler} each step is
 * a range "step N" (N counts from 1 in each epoch) holding "forward" (everything outside the backward pass and the
 * optimizer's update), "zero_grad", "backward" and "optimizer".
 *
 * <pre>{@code
 * Trainer trainer = new Trainer(List.of(model), List.of(adam));
 * trainer.epoch(1, loader, (batch, step) -> {
 *     Tensor loss = Ops.crossEntropy(model.forward(batch.x()), batch.y());
 *     step.minimize(loss);
 *     step.log("loss", loss);
 * });
 * }</pre>
 */
public final class Trainer {
    /** Steps between reads of the logged metrics: each read waits for the device. */
    public static final int READ_INTERVAL = 20;

    private final List<Module> models;
    private final List<Optimizer> optimizers;
    private TrainListener listener;
    private volatile boolean stopRequested;

    /** {@code models} are switched to training mode for each epoch; {@code optimizers} are the ones steps may use. */
    public Trainer(List<? extends Module> models, List<? extends Optimizer> optimizers) {
        if (models == null || models.isEmpty()) throw new IllegalArgumentException("Trainer: needs at least one model");
        if (optimizers == null || optimizers.isEmpty()) throw new IllegalArgumentException("Trainer: needs at least one optimizer");
        this.models = List.copyOf(models);
        this.optimizers = List.copyOf(optimizers);
    }

    /** A trainer of one model with one optimizer. */
    public Trainer(Module model, Optimizer optimizer) {
        this(List.of(model), List.of(optimizer));
    }

    /** Sets the listener told about progress (null for none); returns this. */
    public Trainer listener(TrainListener listener) {
        this.listener = listener;
        return this;
    }

    /** The optimizers steps may use, in the order given; unmodifiable. */
    public List<Optimizer> optimizers() {
        return optimizers;
    }

    /**
     * Asks the epoch in progress to end after the step it is running, from any thread (the {@code kiln} command calls
     * it on Ctrl-C); its {@link EpochStats#stopped()} then says so, and {@link EpochStats#steps()} how many steps ran.
     * A stopped trainer stays stopped: a later epoch ends before its first step.
     */
    public void requestStop() {
        stopRequested = true;
    }

    /** Whether {@link #requestStop()} has been called. */
    public boolean stopRequested() {
        return stopRequested;
    }

    /** One epoch over a Fashion-MNIST style loader. */
    public EpochStats epoch(int epoch, BatchLoader loader, TrainStep<BatchLoader.Batch> step) {
        return epoch(epoch, loader, 0, step);
    }

    /**
     * The rest of an epoch over a loader whose first {@code firstBatch} batches were trained before (a run resumed
     * part-way through an epoch): steps are numbered from {@code firstBatch + 1}, as the whole epoch numbers them.
     */
    public EpochStats epoch(int epoch, BatchLoader loader, int firstBatch, TrainStep<BatchLoader.Batch> step) {
        return run(epoch, loader.epoch(firstBatch).iterator(), firstBatch, loader.batchesPerEpoch(), BatchLoader.Batch::size, step);
    }

    /**
     * One epoch over any batches. {@code batches.next()} runs inside the step's scope, so a batch made there is freed
     * with the step. {@code size} says how many samples a batch holds (for samples/s).
     */
    public <B> EpochStats epoch(int epoch, Iterator<B> batches, int batchCount, ToLongFunction<B> size, TrainStep<B> step) {
        return run(epoch, batches, 0, batchCount, size, step);
    }

    private <B> EpochStats run(int epoch, Iterator<B> batches, int firstBatch, int batchCount, ToLongFunction<B> size,
                               TrainStep<B> step) {
        for (Module m : models) m.train();
        StepContext context = new StepContext(optimizers);
        long started = System.nanoTime(), samples = 0;
        int index = firstBatch, readAt = firstBatch;
        boolean stopped = false;
        Map<String, Double> means = new LinkedHashMap<>();
        try {
            while (batches.hasNext() && !(stopped = stopRequested)) {
                index++;
                try (Scope s = Scope.open(); Profiler.Range range = Profiler.range("step " + index)) {
                    B batch = batches.next();
                    samples += size.applyAsLong(batch);
                    context.beginForward();
                    try {
                        step.run(batch, context);
                    } finally {
                        context.endForward();
                    }
                }
                if (index % READ_INTERVAL == 0 || !batches.hasNext() || stopRequested) {
                    means = context.means();
                    readAt = index;
                    checkFinite(means, epoch, index);
                }
                if (listener != null) listener.step(epoch, index, batchCount, samples, means);
            }
            if (readAt != index) {  // a stop that came after the last step's read
                means = context.means();
                checkFinite(means, epoch, index);
            }
        } finally {
            context.close();
        }
        EpochStats stats = new EpochStats(epoch, Collections.unmodifiableMap(new LinkedHashMap<>(means)), samples,
                (System.nanoTime() - started) / 1e9, index - firstBatch, stopped);
        if (listener != null) listener.epochEnd(stats);
        return stats;
    }

    private static void checkFinite(Map<String, Double> means, int epoch, int step) {
        means.forEach((name, v) -> {
            if (!Double.isFinite(v)) {
                throw new IllegalStateException("training diverged: mean " + name + " is " + v + " at epoch " + epoch
                        + ", step " + step + " (try a smaller learning rate)");
            }
        });
    }
}

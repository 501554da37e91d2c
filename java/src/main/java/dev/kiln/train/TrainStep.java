package dev.kiln.train;

/**
 * What one training step does with one batch: compute the losses, {@link StepContext#minimize minimize} each with
 * its optimizer (a GAN alternates two), and {@link StepContext#log log} the scalars to report. It runs inside the
 * step's {@link dev.kiln.Scope}, so every tensor it creates is freed when it returns.
 *
 * @param <B> the batch type (for Fashion-MNIST, {@link dev.kiln.data.BatchLoader.Batch})
 */
@FunctionalInterface
public interface TrainStep<B> {
    /** Runs the step on {@code batch}, updating parameters and logging through {@code step}. */
    void run(B batch, StepContext step);
}

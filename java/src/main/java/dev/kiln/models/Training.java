package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.nn.Module;
import dev.kiln.ops.Autograd;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Optimizer;

import java.util.Iterator;

/**
 * The classification training loop shared by every model and the CLI: one {@link Scope} per step (so memory is
 * flat), cross-entropy loss, an optimizer step, and a listener told about progress.
 */
public final class Training {
    /** Told after every step; {@code loss} is that step's mean loss. */
    public interface Listener {
        void step(int epoch, int batch, int batches, int samples, double loss);

        default void epochEnd(int epoch, double meanLoss, double testAccuracy, double seconds) {
        }
    }

    private Training() {
    }

    /** Steps between reads of the running loss: each read waits for the device, so a GPU run is not serialized. */
    static final int LOSS_READ_INTERVAL = 20;

    /** Trains one epoch and returns its mean training loss. */
    public static double trainEpoch(Module model, BatchLoader loader, Optimizer optimizer, int epoch, Listener listener) {
        model.train();
        int total = loader.batchesPerEpoch(), index = 0, seen = 0;
        double meanLoss = Double.NaN;
        Device device = null;
        Tensor lossSum = null;  // running sum of the step losses, kept on the device
        try {
            Iterator<BatchLoader.Batch> batches = loader.epoch().iterator();
            while (batches.hasNext()) {
                int size;
                try (Scope step = Scope.open()) {
                    BatchLoader.Batch batch = batches.next();  // inside the step's scope: freed with it
                    size = batch.size();
                    if (lossSum == null) {
                        device = batch.x().device();
                        final Device d = device;
                        lossSum = Scope.detached(() -> Tensor.zeros(d));
                    }
                    Tensor logits = model.forward(batch.x());
                    Tensor loss = Ops.crossEntropy(logits, batch.y());
                    optimizer.zeroGrad();
                    loss.backward();
                    optimizer.step();
                    Ops.axpy_(1f, loss, lossSum);
                }
                seen += size;
                index++;
                if (index % LOSS_READ_INTERVAL == 0 || index == total) {
                    meanLoss = lossSum.item() / index;
                    if (!Double.isFinite(meanLoss)) {
                        throw new IllegalStateException("training diverged: mean loss is " + meanLoss + " at epoch " + epoch
                                + ", batch " + index + " (try a smaller --lr)");
                    }
                }
                if (listener != null) listener.step(epoch, index, total, seen, meanLoss);
            }
        } finally {
            if (lossSum != null) lossSum.close();
        }
        return meanLoss;
    }

    /** Fraction of {@code data} classified correctly, in eval mode without recording gradients. */
    public static double accuracy(Module model, Dataset data, int batchSize, Device device) {
        model.eval();
        BatchLoader loader = new BatchLoader(data, batchSize, false, 0, device);
        long correct = 0;
        try (AutoCloseable noGrad = Autograd.noGrad()) {
            Iterator<BatchLoader.Batch> batches = loader.epoch().iterator();
            while (batches.hasNext()) {
                try (Scope s = Scope.open()) {
                    BatchLoader.Batch batch = batches.next();
                    int[] predicted = Ops.argmax(model.forward(batch.x())).toIntArray();
                    int[] truth = batch.y().toIntArray();
                    for (int i = 0; i < batch.size(); i++) if (predicted[i] == truth[i]) correct++;
                }
            }
        } catch (Exception e) {
            throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
        } finally {
            model.train();
        }
        return (double) correct / data.count();
    }
}

package dev.kiln.train;

import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.nn.Layer;
import dev.kiln.ops.Autograd;
import dev.kiln.ops.NoGrad;
import dev.kiln.ops.Ops;

import java.util.Iterator;

/** Classifiers (the MLP, the CNN, the LSTM classifier): the cross-entropy training step and test accuracy. */
public final class Classification {
    private Classification() {
    }

    /** Cross entropy of the model's logits against the labels, minimized with the trainer's optimizer, logged as "loss". */
    public static TrainStep<BatchLoader.Batch> step(Layer model) {
        return (batch, step) -> {
            Tensor loss = Ops.crossEntropy(model.forward(batch.x()), batch.y());
            step.minimize(loss);
            step.log("loss", loss);
        };
    }

    /** Fraction of {@code data} classified correctly, in eval mode without recording gradients. */
    public static double accuracy(Layer model, Dataset data, int batchSize, Device device) {
        boolean wasTraining = model.isTraining();
        model.eval();
        BatchLoader loader = new BatchLoader(data, batchSize, false, 0, device);
        long correct = 0;
        try (NoGrad ignored = Autograd.noGrad()) {
            Iterator<BatchLoader.Batch> batches = loader.epoch().iterator();
            while (batches.hasNext()) {
                try (Scope s = Scope.open()) {
                    BatchLoader.Batch batch = batches.next();
                    int[] predicted = Ops.argmax(model.forward(batch.x())).toIntArray();
                    int[] truth = batch.y().toIntArray();
                    for (int i = 0; i < batch.size(); i++) if (predicted[i] == truth[i]) correct++;
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return (double) correct / data.count();
    }
}

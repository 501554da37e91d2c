package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.nn.Activation;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Lstm;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Sequential;
import dev.kiln.ops.Ops;

/**
 * The row-wise sequence classifier: an image read as T rows of F pixels (28 x 28 for Fashion-MNIST), an LSTM(64),
 * the last step's hidden state into Dense(128) ReLU, Dense(classes).
 */
public final class LstmClassifier extends Layer {
    private final Lstm lstm;
    private final Sequential head;
    private final int steps;
    private final int features;

    /**
     * Sequences of {@code steps} rows of {@code features} values, an LSTM of {@code hidden} units and {@code classes}
     * outputs, on {@code device}, initialized from {@code g}.
     */
    public LstmClassifier(int steps, int features, int hidden, int classes, Device device, Generator g) {
        this.steps = steps;
        this.features = features;
        lstm = registerModule("lstm", new Lstm(features, hidden, device, g));
        head = registerModule("head", new Sequential(new Linear(hidden, 128, device, g), Activation.relu(),
                new Linear(128, classes, device, g)));
    }

    /** The Fashion-MNIST classifier: 28 rows of 28 pixels, LSTM(64), 10 classes. */
    public static LstmClassifier fashionMnist(Device device, Generator g) {
        return new LstmClassifier(28, 28, 64, 10, device, g);
    }

    /** x is (N, 1, 28, 28) or (N, 28, 28); the result is (N, classes) logits. */
    @Override
    public Tensor forward(Tensor x) {
        // Each of the N samples must be exactly one sequence: (N, 2, 28, 28) would otherwise become 2N sequences and
        // give 2N rows of logits for N labels.
        if (x == null || x.isClosed() || x.rank() < 2 || x.numel() != (long) x.dim(0) * steps * features || x.dim(-1) != features) {
            throw new IllegalArgumentException("LstmClassifier: input must hold (N, " + steps + ", " + features + ") values, got " + x);
        }
        Tensor seq = Ops.reshape(x, -1, steps, features);
        return head.forward(lstm.forward(seq).lastHidden());
    }

    @Override
    public String toString() {
        return "LstmClassifier(" + lstm + ", " + head + ")";
    }
}

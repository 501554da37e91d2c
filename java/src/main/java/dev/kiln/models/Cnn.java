package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.nn.Activation;
import dev.kiln.nn.Conv2d;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Pool2d;
import dev.kiln.nn.Sequential;

/**
 * The classic small CNN for 28x28x1 images: Conv(32, 3x3) ReLU MaxPool(2), Conv(64, 3x3) ReLU MaxPool(2),
 * Flatten, Dense(128) ReLU, Dense(10). Shapes: 28 -> 26 -> 13 -> 11 -> 5, so the dense layer sees 64*5*5 = 1600.
 */
public final class Cnn extends Layer {
    /** Width of the penultimate layer, what {@link #features} returns. */
    public static final int FEATURES = 128;

    private final Sequential body;
    private final Linear head;

    /** The CNN with {@code classes} outputs on {@code device}, its weights initialized from {@code g}. */
    public Cnn(int classes, Device device, Generator g) {
        body = registerModule("features", new Sequential(
                new Conv2d(1, 32, 3, device, g), Activation.relu(), Pool2d.max(2),
                new Conv2d(32, 64, 3, device, g), Activation.relu(), Pool2d.max(2),
                new Flatten(),
                new Linear(64 * 5 * 5, FEATURES, device, g), Activation.relu()));
        head = registerModule("classifier", new Linear(FEATURES, classes, device, g));
    }

    /** The Fashion-MNIST CNN: 10 classes. */
    public static Cnn fashionMnist(Device device, Generator g) {
        return new Cnn(10, device, g);
    }

    /** x is (N, 1, 28, 28); the result is (N, classes) logits. */
    @Override
    public Tensor forward(Tensor x) {
        return head.forward(features(x));
    }

    /** The penultimate layer's activations (N, 128): what image-quality scores compare (see dev.kiln.eval). */
    public Tensor features(Tensor x) {
        if (x == null || x.isClosed() || x.rank() != 4 || x.dim(1) != 1 || x.dim(2) != 28 || x.dim(3) != 28) {
            throw new IllegalArgumentException("Cnn: input must be (N, 1, 28, 28), got " + x);
        }
        return body.forward(x);
    }

    /** Logits (N, classes) from {@link #features} (N, 128): the last layer alone. */
    public Tensor classify(Tensor features) {
        return head.forward(features);
    }

    @Override
    public String toString() {
        String b = body.toString();
        return "Cnn(" + b.substring("Sequential(".length(), b.length() - 1) + ", " + head + ")";
    }
}

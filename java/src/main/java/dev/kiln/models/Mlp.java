package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.nn.Activation;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Sequential;
import dev.kiln.ops.Ops;

/** A multilayer perceptron for flattened images: in -> hidden (ReLU) -> classes logits (784-256-10 by default). */
public final class Mlp extends Layer {
    private final Sequential net;

    /** in -> hidden (ReLU) -> classes, on {@code device}, its weights initialized from {@code g}. */
    public Mlp(int in, int hidden, int classes, Device device, Generator g) {
        net = registerModule("net", new Sequential(
                new Linear(in, hidden, device, g),
                Activation.relu(),
                new Linear(hidden, classes, device, g)));
    }

    /** The Fashion-MNIST MLP: 784-256-10. */
    public static Mlp fashionMnist(Device device, Generator g) {
        return new Mlp(28 * 28, 256, 10, device, g);
    }

    /** x is (N, ...) images; the result is (N, classes) logits. */
    @Override
    public Tensor forward(Tensor x) {
        return net.forward(Ops.flatten(x));
    }

    @Override
    public String toString() {
        return "Mlp" + net.toString().substring("Sequential".length());
    }
}

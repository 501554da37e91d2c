package dev.kiln.nn;

import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

/** Parameter-free activation layers, for use in {@link Sequential}. */
public final class Activation extends Layer {
    private final String name;
    private final java.util.function.UnaryOperator<Tensor> fn;

    private Activation(String name, java.util.function.UnaryOperator<Tensor> fn) {
        this.name = name;
        this.fn = fn;
    }

    /** ReLU, {@link Ops#relu}. */
    public static Activation relu() {
        return new Activation("ReLU", Ops::relu);
    }

    /** LeakyReLU with slope {@code negativeSlope} for negative inputs, {@link Ops#leakyRelu}. */
    public static Activation leakyRelu(float negativeSlope) {
        return new Activation("LeakyReLU(" + negativeSlope + ")", x -> Ops.leakyRelu(x, negativeSlope));
    }

    /** Tanh, {@link Ops#tanh}. */
    public static Activation tanh() {
        return new Activation("Tanh", Ops::tanh);
    }

    /** Sigmoid, {@link Ops#sigmoid}. */
    public static Activation sigmoid() {
        return new Activation("Sigmoid", Ops::sigmoid);
    }

    /** GELU in the exact (erf) form, {@link Ops#gelu}. */
    public static Activation gelu() {
        return new Activation("GELU", Ops::gelu);
    }

    @Override
    public Tensor forward(Tensor x) {
        return fn.apply(x);
    }

    @Override
    public String toString() {
        return name;
    }
}

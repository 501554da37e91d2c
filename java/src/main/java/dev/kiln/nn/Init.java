package dev.kiln.nn;

import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

/**
 * Parameter initializers, drawn in place from a Philox {@link Generator}: the same seed gives the same model on
 * every device. Gains follow the usual conventions (sqrt(2) for ReLU, 1 for linear/tanh-free use).
 */
public final class Init {
    private Init() {
    }

    /** Fills the f32 tensor {@code t} in place, uniform in [lo, hi) from {@code g}; returns t. */
    public static Tensor uniform(Tensor t, float lo, float hi, Generator g) {
        return Ops.uniform_(t, g, lo, hi);
    }

    /** Fills the f32 tensor {@code t} in place, normal with the given mean and standard deviation; returns t. */
    public static Tensor normal(Tensor t, float mean, float std, Generator g) {
        return Ops.normal_(t, g, mean, std);
    }

    /** He uniform: U(-b, b) with b = gain * sqrt(3 / fanIn). */
    public static Tensor kaimingUniform(Tensor t, int fanIn, float gain, Generator g) {
        checkFan("kaimingUniform", "fanIn", fanIn);
        float bound = gain * (float) Math.sqrt(3.0 / fanIn);
        return uniform(t, -bound, bound, g);
    }

    /** He normal: N(0, (gain / sqrt(fanIn))^2). */
    public static Tensor kaimingNormal(Tensor t, int fanIn, float gain, Generator g) {
        checkFan("kaimingNormal", "fanIn", fanIn);
        return normal(t, 0f, gain / (float) Math.sqrt(fanIn), g);
    }

    /** Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fanIn + fanOut)). */
    public static Tensor xavierUniform(Tensor t, int fanIn, int fanOut, float gain, Generator g) {
        checkFan("xavierUniform", "fanIn + fanOut", (long) fanIn + fanOut);
        float bound = gain * (float) Math.sqrt(6.0 / (fanIn + fanOut));
        return uniform(t, -bound, bound, g);
    }

    /** Glorot normal: N(0, gain^2 * 2 / (fanIn + fanOut)). */
    public static Tensor xavierNormal(Tensor t, int fanIn, int fanOut, float gain, Generator g) {
        checkFan("xavierNormal", "fanIn + fanOut", (long) fanIn + fanOut);
        return normal(t, 0f, gain * (float) Math.sqrt(2.0 / (fanIn + fanOut)), g);
    }

    /**
     * A fan of 0 (a layer with K = 0 inputs) would divide by zero: an infinite bound, then NaN weights from a uniform
     * over (-inf, inf). Refused, naming the initializer and the fan.
     */
    private static void checkFan(String init, String what, long fan) {
        if (fan <= 0) throw new IllegalArgumentException("Init." + init + ": " + what + " must be positive, got " + fan);
    }

    /** The gain for ReLU layers. */
    public static float reluGain() {
        return (float) Math.sqrt(2.0);
    }
}

package dev.kiln.ops;

import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.internal.RandomNative;

/** Fill and the Philox draws, in place and not recorded: initialization, zeroing, constants. */
final class RandomOps {
    private RandomOps() {
    }

    /** Sets every element of {@code t} to {@code value}; returns t. */
    @Op
    static Tensor fill_(Tensor t, float value) {
        Checks.f32("fill_", "t", t);
        Autograd.modifiedInPlace(t);
        RandomNative.fill(t, value);
        return t;
    }

    /** Uniform in [lo, hi) from the generator's Philox stream: the same state gives the same bits on every device. */
    @Op
    static Tensor uniform_(Tensor t, Generator generator, float lo, float hi) {
        Checks.f32("uniform_", "t", t);
        requireGenerator("uniform_", generator);
        Autograd.modifiedInPlace(t);
        RandomNative.uniform(t, generator.seed(), generator.reserve(t.numel()), lo, hi);
        return t;
    }

    /** Normal with the given mean and standard deviation, from the generator's Philox stream. */
    @Op
    static Tensor normal_(Tensor t, Generator generator, float mean, float std) {
        Checks.f32("normal_", "t", t);
        requireGenerator("normal_", generator);
        Autograd.modifiedInPlace(t);
        RandomNative.normal(t, generator.seed(), generator.reserve(t.numel()), mean, std);
        return t;
    }

    private static void requireGenerator(String op, Generator generator) {
        if (generator == null) throw new IllegalArgumentException(op + ": generator is null");
    }
}

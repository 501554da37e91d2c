package dev.kiln.nn;

import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

/** (N, ...) to (N, rest). */
public final class Flatten extends Layer {
    @Override
    public Tensor forward(Tensor x) {
        return Ops.flatten(x);
    }

    @Override
    public String toString() {
        return "Flatten";
    }
}

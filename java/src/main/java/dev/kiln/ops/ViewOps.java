package dev.kiln.ops;

import dev.kiln.Tensor;
import dev.kiln.internal.TensorAccess;

/** Views: the same memory with another shape, recorded so that gradients flow back through the reshape. */
final class ViewOps {
    private static final TensorAccess TENSORS = TensorAccess.get();

    private ViewOps() {
    }

    /** The same data with another shape (one dimension may be -1); gradients flow through. */
    @Op
    static Tensor reshape(Tensor x, int... shape) {
        return view("reshape", x, shape);
    }

    /** As {@link #reshape}: the same memory with another shape, gradients flowing through. */
    @Op
    static Tensor view(Tensor x, int... shape) {
        return view("view", x, shape);
    }

    /** (N, ...) to (N, rest). */
    @Op
    static Tensor flatten(Tensor x) {
        Checks.open("flatten", "x", x);
        Checks.minRank("flatten", "x", x, 1);
        // The rest is counted, not inferred with -1: an empty batch (0, C, H, W) flattens to (0, C H W).
        // An empty batch can hold any trailing dimensions, (0, 2^31 - 1, 2^31 - 1, ...): their product is checked.
        long rest = 1;
        try {
            for (int i = 1; i < x.rank(); i++) rest = Math.multiplyExact(rest, x.dim(i));
        } catch (ArithmeticException e) {
            rest = Long.MAX_VALUE;
        }
        if (rest > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("flatten: " + x + " would need a dimension of " + rest
                    + " (more than an int)");
        }
        return reshape(x, x.dim(0), (int) rest);
    }

    /** {@code op} ("view" or "reshape") names the call in messages; one dimension of {@code shape} may be -1. */
    private static Tensor view(String op, Tensor x, int[] shape) {
        Checks.open(op, "x", x);
        int[] original = x.shape();
        Tensor y = TENSORS.alias(x, op, shape);
        return Autograd.record(op, y, dy -> new Tensor[] {TENSORS.alias(dy, op, original)}, x);
    }

    /**
     * The same memory and shape, cut from the autograd graph: no gradient flows back through it. A GAN's discriminator
     * step uses {@code detach(fake)} so that its backward leaves the generator's graph for the generator's step.
     */
    @Op
    static Tensor detach(Tensor x) {
        Checks.open("detach", "x", x);
        return TENSORS.alias(x, "detach", x.shape());
    }
}

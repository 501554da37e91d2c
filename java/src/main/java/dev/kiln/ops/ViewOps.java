package dev.kiln.ops;

import dev.kiln.Tensor;
import dev.kiln.internal.TensorAccess;

/** Views: the same memory with another shape, recorded so that gradients flow back through the reshape. */
final class ViewOps {
    private static final TensorAccess TENSORS = TensorAccess.get();

    private ViewOps() {
    }

    /** {@code op} ("view" or "reshape") names the call in messages; one dimension of {@code shape} may be -1. */
    static Tensor view(String op, Tensor x, int[] shape) {
        Checks.open(op, "x", x);
        int[] original = x.shape();
        Tensor y = TENSORS.alias(x, op, shape);
        return Autograd.record(op, y, dy -> new Tensor[] {TENSORS.alias(dy, op, original)}, x);
    }

    /** The same memory and shape, cut from the graph: gradients stop here (a GAN's discriminator step on fakes). */
    static Tensor detach(Tensor x) {
        Checks.open("detach", "x", x);
        return TENSORS.alias(x, "detach", x.shape());
    }
}

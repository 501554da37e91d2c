package dev.kiln.ops;

import dev.kiln.Tensor;
import dev.kiln.internal.TransposeNative;

/**
 * Two axes of a tensor exchanged, as a new dense tensor: one kernel (kiln_transpose_f32), which is also its own
 * backward with the two sizes exchanged.
 */
final class TransposeOps {
    private TransposeOps() {
    }

    /**
     * x with axes {@code axis0} and {@code axis1} exchanged (negative axes count from the end), as a new dense tensor:
     * for x of shape (2, 3, 4), {@code transpose(x, 0, 2)} has shape (4, 3, 2) and element [k, j, i] = x[i, j, k].
     * The same axis twice gives a copy. Gradients flow back through the same exchange.
     */
    @Op
    static Tensor transpose(Tensor x, int axis0, int axis1) {
        String op = "transpose";
        Checks.f32(op, "x", x);
        int p = Checks.axis(op, x, axis0), q = Checks.axis(op, x, axis1);
        int a = Math.min(p, q), b = Math.max(p, q);
        int[] shape = x.shape();
        int[] outShape = shape.clone();
        outShape[a] = shape[b];
        outShape[b] = shape[a];
        // x as (outer, rows, mid, cols, inner) around the two axes; one axis twice is (outer, 1, dim, 1, inner).
        long outer = Checks.product(shape, 0, a), inner = Checks.product(shape, b + 1, shape.length);
        long rows = a == b ? 1 : shape[a], cols = a == b ? 1 : shape[b];
        long mid = a == b ? shape[a] : Checks.product(shape, a + 1, b);
        Tensor y = Tensor.empty(x.device(), outShape);
        TransposeNative.transpose(x, y, outer, rows, mid, cols, inner);
        return Autograd.record(op, y, dy -> {
            Tensor dx = Tensor.empty(dy.device(), shape);
            TransposeNative.transpose(dy, dx, outer, cols, mid, rows, inner);
            return new Tensor[] {dx};
        }, x);
    }
}

package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Tensor;
import dev.kiln.internal.EmbeddingNative;

import java.util.Arrays;

/** Embedding lookup (gradient to the table) and sinusoidal positional encodings. */
final class EmbeddingOps {
    private EmbeddingOps() {
    }

    /**
     * Rows of weight (V, E) named by int32 indices of any shape: the result has the shape of indices plus (E). An index
     * outside [0, V) gives a row of NaN (indices live on the device and are not read here). The gradient goes to
     * weight only: the rows of each index summed in increasing position, the same bits on every device.
     */
    @Op
    static Tensor embedding(Tensor indices, Tensor weight) {
        String op = "embedding";
        Checks.open(op, "indices", indices);
        if (indices.dtype() != DType.I32) {
            throw new IllegalArgumentException(op + ": 'indices' must be i32, got " + indices);
        }
        Checks.f32(op, "weight", weight);
        if (weight.rank() != 2) {
            throw new IllegalArgumentException(op + ": 'weight' must be (V, E), got " + Checks.shape(weight));
        }
        Checks.sameDevice(op, indices, weight);
        int vocab = weight.dim(0), dim = weight.dim(1);
        long n = indices.numel();
        int[] shape = Arrays.copyOf(indices.shape(), indices.rank() + 1);
        shape[indices.rank()] = dim;
        Tensor y = Tensor.empty(weight.device(), shape);
        EmbeddingNative.forward(indices, weight, y, n, vocab, dim);
        return Autograd.record(op, y, dy -> {
            Tensor dweight = Tensor.empty(dy.device(), vocab, dim);
            EmbeddingNative.backward(indices, dy, dweight, n, vocab, dim);
            return new Tensor[] {dweight};
        }, weight);
    }

    /**
     * Sinusoidal positional encodings (length, dim) of positions start .. start + length - 1: column 2i is
     * sin(p 10000^(-2i/dim)), column 2i + 1 its cos (dim may be odd). A constant: not recorded.
     */
    @Op
    static Tensor sinusoidalPositions(Device device, int length, int dim, int start) {
        String op = "sinusoidal_positions";
        if (device == null) throw new IllegalArgumentException(op + ": device is null");
        if (length < 0 || dim < 0 || start < 0) {
            throw new IllegalArgumentException(op + ": length, dim and start must be >= 0, got length=" + length
                    + ", dim=" + dim + ", start=" + start);
        }
        Tensor y = Tensor.empty(device, length, dim);
        EmbeddingNative.sinusoidalPositions(y, length, dim, start);
        return y;
    }
}

package dev.kiln.ops;

import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.internal.ElementwiseNative;

import java.util.Arrays;

/**
 * Elementwise ops with suffix broadcasting, activations, scaling, dropout and the fused bias + GELU, forward and
 * backward; axpy_, scale_.
 */
final class ElementwiseOps {
    static final int ADD = ElementwiseNative.ADD, SUB = ElementwiseNative.SUB, MUL = ElementwiseNative.MUL,
            DIV = ElementwiseNative.DIV;
    private static final String[] BINARY_NAMES = {"add", "sub", "mul", "div"};
    static final int RELU = ElementwiseNative.RELU, LEAKY_RELU = ElementwiseNative.LEAKY_RELU,
            TANH = ElementwiseNative.TANH, SIGMOID = ElementwiseNative.SIGMOID, GELU = ElementwiseNative.GELU;
    private static final String[] ACTIVATION_NAMES = {"relu", "leaky_relu", "tanh", "sigmoid", "gelu"};

    private ElementwiseOps() {
    }

    /**
     * How a binary op lines its operands up: y is (outer, inner); a full operand has stride inner, a broadcast
     * one stride 0. An operand broadcasts when its shape is a suffix of the other's, or when it has one element.
     */
    private record Layout(long outer, long inner, long strideA, long strideB, int[] outShape) {
        static Layout of(String op, Tensor a, Tensor b) {
            int[] as = a.shape(), bs = b.shape();
            if (Arrays.equals(as, bs)) return new Layout(1, a.numel(), a.numel(), b.numel(), as);
            // The result has the larger operand's shape, with leading 1s up to the larger rank: (3,) with (1, 1, 3) is
            // (1, 1, 3), as in NumPy.
            int rank = Math.max(as.length, bs.length);
            if (b.numel() == 1 && a.numel() != 1) return new Layout(a.numel(), 1, 1, 0, widen(as, rank));
            if (a.numel() == 1 && b.numel() != 1) return new Layout(b.numel(), 1, 0, 1, widen(bs, rank));
            // An empty suffix (a bias of (0,) against (N, 0)) broadcasts too: the result is empty, and nothing is divided.
            if (isSuffix(bs, as)) {
                int[] out = widen(as, rank);
                return b.numel() > 0 ? new Layout(a.numel() / b.numel(), b.numel(), b.numel(), 0, out) : empty(out);
            }
            if (isSuffix(as, bs)) {
                int[] out = widen(bs, rank);
                return a.numel() > 0 ? new Layout(b.numel() / a.numel(), a.numel(), 0, a.numel(), out) : empty(out);
            }
            throw new IllegalArgumentException(op + ": shapes " + Checks.shape(a) + " and " + Checks.shape(b)
                    + " do not broadcast (one must equal the trailing dimensions of the other, or have one element)");
        }

        private static Layout empty(int[] outShape) {
            return new Layout(0, 0, 0, 0, outShape);
        }

        /** shape with leading 1s up to rank (shape itself when it has that many dimensions already). */
        private static int[] widen(int[] shape, int rank) {
            if (shape.length >= rank) return shape;
            int[] out = new int[rank];
            Arrays.fill(out, 0, rank - shape.length, 1);
            System.arraycopy(shape, 0, out, rank - shape.length, shape.length);
            return out;
        }

        private static boolean isSuffix(int[] small, int[] big) {
            int start = 0;
            while (start < small.length && small[start] == 1 && small.length - start > 0) start++;  // leading 1s are free
            int len = small.length - start;
            if (len > big.length) return false;
            for (int i = 0; i < len; i++) if (small[start + i] != big[big.length - len + i]) return false;
            return true;
        }
    }

    /** a + b elementwise, f32 on one device; one operand may broadcast (see the class comment). */
    @Op
    static Tensor add(Tensor a, Tensor b) {
        return binary(ADD, a, b);
    }

    /** a - b elementwise, broadcasting as {@link #add}. */
    @Op
    static Tensor sub(Tensor a, Tensor b) {
        return binary(SUB, a, b);
    }

    /** a * b elementwise, broadcasting as {@link #add}. */
    @Op
    static Tensor mul(Tensor a, Tensor b) {
        return binary(MUL, a, b);
    }

    /** a / b elementwise, broadcasting as {@link #add}. */
    @Op
    static Tensor div(Tensor a, Tensor b) {
        return binary(DIV, a, b);
    }

    /** x plus a bias along the last dimension: x (..., C), bias (C). */
    @Op
    static Tensor biasAdd(Tensor x, Tensor bias) {
        Checks.f32("bias_add", "x", x);
        Checks.f32("bias_add", "bias", bias);
        if (bias.rank() != 1 || x.rank() < 1 || bias.dim(0) != x.dim(-1)) {
            throw new IllegalArgumentException("bias_add: bias must be (C,) with C the last dimension of x, got x "
                    + Checks.shape(x) + " and bias " + Checks.shape(bias));
        }
        return add(x, bias);
    }

    static Tensor binary(int kind, Tensor a, Tensor b) {
        String op = BINARY_NAMES[kind];
        Checks.f32(op, "a", a);
        Checks.f32(op, "b", b);
        Checks.sameDevice(op, a, b);
        Layout l = Layout.of(op, a, b);
        int[] shapeA = a.shape(), shapeB = b.shape();
        Tensor y = Tensor.empty(a.device(), l.outShape());
        ElementwiseNative.binary(kind, a, l.strideA(), b, l.strideB(), y, l.outer(), l.inner());
        return Autograd.record(op, y, dy -> {
            Tensor da = Autograd.isTracked(a) ? Tensor.empty(dy.device(), shapeA) : null;
            Tensor db = Autograd.isTracked(b) ? Tensor.empty(dy.device(), shapeB) : null;
            ElementwiseNative.binaryBackward(kind, a, l.strideA(), b, l.strideB(), dy, da, db, l.outer(), l.inner());
            return new Tensor[] {da, db};
        }, a, b);
    }

    /** alpha * x. */
    @Op
    static Tensor scale(Tensor x, float alpha) {
        Checks.f32("scale", "x", x);
        Tensor y = scaleRaw(x, alpha);
        return Autograd.record("scale", y, dy -> new Tensor[] {scaleRaw(dy, alpha)}, x);
    }

    /** -x, as {@code scale(x, -1)}. */
    @Op
    static Tensor neg(Tensor x) {
        return scale(x, -1f);
    }

    static Tensor scaleRaw(Tensor x, float alpha) {
        Tensor y = Tensor.empty(x.device(), x.shape());
        ElementwiseNative.scale(x, y, alpha);
        return y;
    }

    /** max(x, 0) elementwise. */
    @Op
    static Tensor relu(Tensor x) {
        return activation(RELU, x, 0f);
    }

    /** x where x is positive, {@code negativeSlope} * x elsewhere. */
    @Op
    static Tensor leakyRelu(Tensor x, float negativeSlope) {
        return activation(LEAKY_RELU, x, negativeSlope);
    }

    /** Hyperbolic tangent, elementwise. */
    @Op
    static Tensor tanh(Tensor x) {
        return activation(TANH, x, 0f);
    }

    /** The logistic function 1 / (1 + exp(-x)), elementwise. */
    @Op
    static Tensor sigmoid(Tensor x) {
        return activation(SIGMOID, x, 0f);
    }

    /** GELU, exact (erf) form. */
    @Op
    static Tensor gelu(Tensor x) {
        return activation(GELU, x, 0f);
    }

    static Tensor activation(int kind, Tensor x, float alpha) {
        String op = ACTIVATION_NAMES[kind];
        Checks.f32(op, "x", x);
        int[] shape = x.shape();
        Tensor y = Tensor.empty(x.device(), shape);
        ElementwiseNative.activation(kind, x, y, alpha);
        return Autograd.record(op, y, dy -> {
            Tensor dx = Tensor.empty(dy.device(), shape);
            ElementwiseNative.activationBackward(kind, x, y, dy, dx, alpha);
            return new Tensor[] {dx};
        }, x);
    }

    /**
     * Zeroes each element with probability p and scales the rest by 1/(1-p) when training; the identity (the same
     * tensor) otherwise. The mask comes from {@code generator}'s Philox stream and is regenerated in the backward.
     */
    @Op
    static Tensor dropout(Tensor x, float p, Generator generator, boolean training) {
        Checks.f32("dropout", "x", x);
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException("dropout: p must be in [0, 1), got " + p);
        if (!training || p == 0f) return x;
        long seed = generator.seed(), offset = generator.reserve(x.numel());
        int[] shape = x.shape();
        Tensor y = Tensor.empty(x.device(), shape);
        ElementwiseNative.dropout(x, y, p, seed, offset);
        return Autograd.record("dropout", y, dy -> {
            Tensor dx = Tensor.empty(dy.device(), shape);
            ElementwiseNative.dropoutBackward(dy, dx, p, seed, offset);
            return new Tensor[] {dx};
        }, x);
    }

    /** gelu(x + bias) (exact, erf form) in one kernel: x (..., C), bias (C); gradients reach x and bias. */
    @Op
    static Tensor biasGelu(Tensor x, Tensor bias) {
        String op = "bias_gelu";
        Checks.f32(op, "x", x);
        Checks.f32(op, "bias", bias);
        Checks.sameDevice(op, x, bias);
        if (x.rank() < 1 || bias.rank() != 1 || bias.dim(0) != x.dim(-1)) {
            throw new IllegalArgumentException(op + ": bias must be (C,) with C the last dimension of x, got x "
                    + Checks.shape(x) + " and bias " + Checks.shape(bias));
        }
        int cols = x.dim(-1);
        long rows = LayerNormOps.leadingRows(x);
        int[] shape = x.shape();
        Tensor y = Tensor.empty(x.device(), shape);
        ElementwiseNative.biasGelu(x, bias, y, rows, cols);
        return Autograd.record(op, y, dy -> {
            Tensor dx = Autograd.isTracked(x) ? Tensor.empty(dy.device(), shape) : null;
            Tensor dbias = Autograd.isTracked(bias) ? Tensor.empty(dy.device(), cols) : null;
            ElementwiseNative.biasGeluBackward(x, bias, dy, dx, dbias, rows, cols);
            return new Tensor[] {dx, dbias};
        }, x, bias);
    }

    // ---- in place, not recorded ---------------------------------------------------------------------------------

    /** y += alpha x (same shape and device); returns y. */
    @Op
    static Tensor axpy_(float alpha, Tensor x, Tensor y) {
        Checks.like("axpy_", "x", x, "y", y);
        Autograd.modifiedInPlace(y);
        ElementwiseNative.axpy(alpha, x, y);
        return y;
    }

    /** x *= alpha; returns x. */
    @Op
    static Tensor scale_(Tensor x, float alpha) {
        Checks.f32("scale_", "x", x);
        Autograd.modifiedInPlace(x);
        ElementwiseNative.scale(x, x, alpha);
        return x;
    }
}

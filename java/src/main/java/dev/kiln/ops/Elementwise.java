package dev.kiln.ops;

import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.internal.Native;

import java.util.Arrays;

/** Elementwise ops with suffix broadcasting, activations, scaling and dropout, forward and backward. */
final class Elementwise {
    static final int ADD = 0, SUB = 1, MUL = 2, DIV = 3;
    private static final String[] BINARY_NAMES = {"add", "sub", "mul", "div"};
    static final int RELU = 0, LEAKY_RELU = 1, TANH = 2, SIGMOID = 3, GELU = 4;
    private static final String[] ACTIVATION_NAMES = {"relu", "leaky_relu", "tanh", "sigmoid", "gelu"};

    private Elementwise() {
    }

    /**
     * How a binary op lines its operands up: y is (outer, inner); a full operand has stride inner, a broadcast
     * one stride 0. An operand broadcasts when its shape is a suffix of the other's, or when it has one element.
     */
    private record Layout(long outer, long inner, long strideA, long strideB, int[] outShape) {
        static Layout of(String op, Tensor a, Tensor b) {
            int[] as = a.shape(), bs = b.shape();
            if (Arrays.equals(as, bs)) return new Layout(1, a.numel(), a.numel(), b.numel(), as);
            if (b.numel() == 1 && a.numel() != 1) return new Layout(a.numel(), 1, 1, 0, as);
            if (a.numel() == 1 && b.numel() != 1) return new Layout(b.numel(), 1, 0, 1, bs);
            if (isSuffix(bs, as) && b.numel() > 0) return new Layout(a.numel() / b.numel(), b.numel(), b.numel(), 0, as);
            if (isSuffix(as, bs) && a.numel() > 0) return new Layout(b.numel() / a.numel(), a.numel(), 0, a.numel(), bs);
            throw new IllegalArgumentException(op + ": shapes " + Checks.shape(a) + " and " + Checks.shape(b)
                    + " do not broadcast (one must equal the trailing dimensions of the other, or have one element)");
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

    static Tensor binary(int kind, Tensor a, Tensor b) {
        String op = BINARY_NAMES[kind];
        Checks.f32(op, "a", a);
        Checks.f32(op, "b", b);
        Checks.sameDevice(op, a, b);
        Layout l = Layout.of(op, a, b);
        Tensor y = Tensor.empty(a.device(), l.outShape());
        Native.binary(Checks.ctx(y), kind, a.address(), l.strideA(), b.address(), l.strideB(), y.address(), l.outer(), l.inner());
        return Autograd.record(op, y, dy -> {
            Tensor da = Autograd.isTracked(a) ? Tensor.empty(a.device(), a.shape()) : null;
            Tensor db = Autograd.isTracked(b) ? Tensor.empty(b.device(), b.shape()) : null;
            Native.binaryBackward(Checks.ctx(dy), kind, a.address(), l.strideA(), b.address(), l.strideB(), dy.address(),
                    da == null ? 0 : da.address(), db == null ? 0 : db.address(), l.outer(), l.inner());
            return new Tensor[] {da, db};
        }, a, b);
    }

    static Tensor scale(Tensor x, float alpha) {
        Checks.f32("scale", "x", x);
        Tensor y = Tensor.empty(x.device(), x.shape());
        Native.scale(Checks.ctx(y), x.address(), y.address(), x.numel(), alpha);
        return Autograd.record("scale", y, dy -> new Tensor[] {scaleRaw(dy, alpha)}, x);
    }

    static Tensor scaleRaw(Tensor x, float alpha) {
        Tensor y = Tensor.empty(x.device(), x.shape());
        Native.scale(Checks.ctx(y), x.address(), y.address(), x.numel(), alpha);
        return y;
    }

    static Tensor activation(int kind, Tensor x, float alpha) {
        String op = ACTIVATION_NAMES[kind];
        Checks.f32(op, "x", x);
        Tensor y = Tensor.empty(x.device(), x.shape());
        Native.activation(Checks.ctx(y), kind, x.address(), y.address(), x.numel(), alpha);
        return Autograd.record(op, y, dy -> {
            Tensor dx = Tensor.empty(x.device(), x.shape());
            Native.activationBackward(Checks.ctx(dx), kind, x.address(), y.address(), dy.address(), dx.address(), x.numel(), alpha);
            return new Tensor[] {dx};
        }, x);
    }

    static Tensor dropout(Tensor x, float p, Generator generator, boolean training) {
        Checks.f32("dropout", "x", x);
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException("dropout: p must be in [0, 1), got " + p);
        if (!training || p == 0f) return x;
        long seed = generator.seed(), offset = generator.reserve(x.numel());
        Tensor y = Tensor.empty(x.device(), x.shape());
        Native.dropout(Checks.ctx(y), x.address(), y.address(), x.numel(), p, seed, offset);
        return Autograd.record("dropout", y, dy -> {
            Tensor dx = Tensor.empty(x.device(), x.shape());
            Native.dropoutBackward(Checks.ctx(dx), dy.address(), dx.address(), x.numel(), p, seed, offset);
            return new Tensor[] {dx};
        }, x);
    }
}

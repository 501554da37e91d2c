package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Tensor;

import java.util.Arrays;

/** Shape, dtype and device checks shared by the op families; messages name the op, the argument and the shapes. */
final class Checks {
    private Checks() {
    }

    static String shape(Tensor t) {
        return shape(t.shape());
    }

    static String shape(int[] s) {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < s.length; i++) b.append(i == 0 ? "" : ", ").append(s[i]);
        return b.append(s.length == 1 ? ",)" : ")").toString();
    }

    /** Present and open: a closed tensor is refused here, naming the op and the argument, before any shape is read. */
    static void open(String op, String arg, Tensor t) {
        if (t == null) throw new IllegalArgumentException(op + ": argument '" + arg + "' is null");
        if (t.isClosed()) {
            throw new IllegalStateException(op + ": argument '" + arg + "' is closed (" + t + "): it was freed by close() or by the Scope that owned it");
        }
    }

    static void f32(String op, String arg, Tensor t) {
        open(op, arg, t);
        if (t.dtype() != DType.F32) throw new IllegalArgumentException(op + ": '" + arg + "' must be f32, got " + t);
    }

    static void sameDevice(String op, Tensor a, Tensor b) {
        if (!a.device().equals(b.device())) {
            throw new IllegalArgumentException(op + ": operands are on different devices: " + a + " and " + b
                    + " (move one with .to(device))");
        }
    }

    static void sameShape(String op, Tensor a, Tensor b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException(op + ": shapes must match, got " + shape(a) + " and " + shape(b));
        }
    }

    /** {@code t} is an f32 tensor of {@code ref}'s shape on {@code ref}'s device: the operands of an in-place op. */
    static void like(String op, String arg, Tensor t, String refArg, Tensor ref) {
        f32(op, refArg, ref);
        f32(op, arg, t);
        if (!t.device().equals(ref.device()) || !Arrays.equals(t.shape(), ref.shape())) {
            throw new IllegalArgumentException(op + ": '" + arg + "' must match '" + refArg + "' " + ref + ", got " + t);
        }
    }

    static void minRank(String op, String arg, Tensor t, int rank) {
        if (t.rank() < rank) throw new IllegalArgumentException(op + ": '" + arg + "' needs rank >= " + rank + ", got " + t);
    }

    /** Rows and columns of a tensor seen as (rows, last dimension). */
    static long rows(Tensor t) {
        int cols = t.dim(-1);
        return cols == 0 ? 0 : t.numel() / cols;
    }

    /** A window's {h, w} pair (kernel, stride, padding, dilation). */
    static void pair(String op, String arg, int[] v) {
        if (v == null || v.length != 2) throw new IllegalArgumentException(op + ": " + arg + " must be {h, w}");
    }

    /** The shape without its last dimension. */
    static int[] dropLast(Tensor t) {
        return Arrays.copyOf(t.shape(), t.rank() - 1);
    }

    /** {@code axis} of {@code x} with a negative one counted from the end, refused outside the rank. */
    static int axis(String op, Tensor x, int axis) {
        int rank = x.rank();
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException(op + ": axis " + axis + " is out of range for " + x + " "
                    + Arrays.toString(x.shape()));
        }
        return a;
    }

    /** The product of shape[from, to): the elements of the dimensions before, between or after given axes. */
    static long product(int[] shape, int from, int to) {
        long n = 1;
        for (int d = from; d < to; d++) n *= shape[d];
        return n;
    }
}

package dev.kiln;

import java.util.Arrays;

/** Shape checks and messages shared by {@link Tensor}'s factories and views, each naming the op that asked. */
final class Shapes {
    private Shapes() {
    }

    /** "(2, 3)", "(5,)" or "()": the way PyTorch prints a shape. */
    static String toString(int[] shape) {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) b.append(i == 0 ? "" : ", ").append(shape[i]);
        return b.append(shape.length == 1 ? ",)" : ")").toString();
    }

    /** A copy of {@code shape}, refused when null or with a negative dimension. */
    static int[] checked(String op, int[] shape) {
        if (shape == null) throw new IllegalArgumentException(op + ": shape is null");
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException(op + ": negative dimension in shape " + toString(shape));
        }
        return shape.clone();
    }

    /** The element count, refused when it (or its fp32 byte count) overflows a long. */
    static long numel(String op, int[] shape) {
        long n = 1;
        try {
            for (int d : shape) n = Math.multiplyExact(n, d);
            Math.multiplyExact(n, 4L);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(op + ": shape " + toString(shape) + " has too many elements");
        }
        return n;
    }

    /**
     * {@code newShape} for a view of {@code numel} elements of {@code of}, with at most one -1 inferred; refused unless
     * it holds exactly {@code numel} elements.
     */
    static int[] infer(String op, int[] newShape, long numel, Tensor of) {
        if (newShape == null) throw new IllegalArgumentException(op + ": shape is null");
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException(op + ": only one dimension may be -1, got " + Arrays.toString(newShape));
                infer = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException(op + ": invalid dimension " + s[i] + " in " + Arrays.toString(newShape));
            } else if (s[i] != 0 && known > numel / s[i]) {
                known = numel + 1;  // already more than numel (the shape cannot match): stop before the product overflows
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || numel % known != 0 || numel / known > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(op + ": cannot infer -1 in " + Arrays.toString(newShape)
                        + " for " + numel + " elements of " + of);
            }
            s[infer] = Math.toIntExact(numel / known);
            known = numel;
        }
        if (known != numel) {
            throw new IllegalArgumentException(op + ": shape " + toString(s) + " holds "
                    + (known > numel ? "more than " + numel : known) + " elements but " + of + " has " + numel);
        }
        return s;
    }
}

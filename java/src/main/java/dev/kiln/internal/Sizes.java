package dev.kiln.internal;

import java.util.Arrays;

/** Element counts for the binding's memory checks, in int64 with overflow and negative sizes refused. */
final class Sizes {
    private Sizes() {
    }

    /** The product of {@code dims}. */
    static long product(long... dims) {
        long n = 1;
        for (long d : dims) {
            if (d < 0) throw new IllegalArgumentException("size " + Arrays.toString(dims) + " has a negative dimension");
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("size " + Arrays.toString(dims) + " overflows int64");
            }
        }
        return n;
    }

    /**
     * Elements spanned by {@code count} runs of {@code run} contiguous elements, {@code stride} apart:
     * (count - 1) * stride + run, or 0 when there is nothing to touch.
     */
    static long strided(long count, long stride, long run) {
        if (count < 0 || stride < 0 || run < 0) {
            throw new IllegalArgumentException("negative size: count " + count + ", stride " + stride + ", run " + run);
        }
        if (count == 0 || run == 0) return 0;
        try {
            return Math.addExact(Math.multiplyExact(count - 1, stride), run);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("size overflows int64: " + count + " runs of " + run + ", stride " + stride);
        }
    }

    /** Ceiling of bytes / 4: the f32 elements that hold {@code bytes}. */
    static long floatsFor(long bytes) {
        return bytes / 4 + (bytes % 4 == 0 ? 0 : 1);
    }
}

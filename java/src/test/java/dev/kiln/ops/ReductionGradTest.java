package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ReductionGradTest {
    /** Reference sum over axis of x with shape s (axis -1 = everything), times scale. */
    static double[] sumRef(double[] x, int[] s, int axis, boolean mean) {
        if (axis < 0) {
            double t = 0;
            for (double v : x) t += v;
            return new double[] {mean ? t / x.length : t};
        }
        int outer = 1, inner = 1, len = s[axis];
        for (int i = 0; i < axis; i++) outer *= s[i];
        for (int i = axis + 1; i < s.length; i++) inner *= s[i];
        double[] y = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int l = 0; l < len; l++)
                for (int i = 0; i < inner; i++) y[o * inner + i] += x[(o * len + l) * inner + i];
        if (mean) for (int i = 0; i < y.length; i++) y[i] /= len;
        return y;
    }

    @ParameterizedTest(name = "shape {0}x{1}x{2} axis {3} mean {4}")
    @CsvSource({"5,7,3,0,false", "5,7,3,1,false", "5,7,3,2,true", "1,257,1,1,true", "7,33,1,-1,false", "1,1,1,-1,true",
            "1,1,257,2,false", "33,1,7,-1,true"})
    void sumAndMean(int a, int b, int c, int axis, boolean mean) {
        int[] s = {a, b, c};
        GradCheck.check((mean ? "mean" : "sum") + " axis " + axis, new float[][] {GradCheck.uniform(a * b * c, 41, -1, 1)},
                new int[][] {s}, new boolean[] {true},
                t -> axis < 0 ? (mean ? Ops.mean(t[0]) : Ops.sum(t[0])) : (mean ? Ops.mean(t[0], axis) : Ops.sum(t[0], axis)),
                x -> sumRef(x[0], s, axis, mean));
    }

    @ParameterizedTest(name = "max over last axis of {0}x{1}")
    @CsvSource({"7,33", "1,1", "3,257", "33,7"})
    void maxOverLastAxis(int rows, int cols) {
        GradCheck.check("max", new float[][] {GradCheck.uniform(rows * cols, 43, -1, 1)}, new int[][] {{rows, cols}},
                new boolean[] {true}, t -> Ops.max(t[0]),
                x -> {
                    double[] y = new double[rows];
                    for (int r = 0; r < rows; r++) {
                        y[r] = Double.NEGATIVE_INFINITY;
                        for (int c = 0; c < cols; c++) y[r] = Math.max(y[r], x[0][r * cols + c]);
                    }
                    return y;
                });
    }

    @Test
    void argmaxTakesTheFirstOfTies() {
        try (Scope s = Scope.open()) {
            Tensor idx = Ops.argmax(Tensor.of(new float[] {1, 3, 3, 0, -1, -5, -1, -2}, 2, 4));
            assertEquals(DType.I32, idx.dtype());
            assertArrayEquals(new int[] {1, 0}, idx.toIntArray());
        }
    }

    static double[] softmaxRef(double[] x, int rows, int cols, boolean log) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double m = Double.NEGATIVE_INFINITY, z = 0;
            for (int c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
            for (int c = 0; c < cols; c++) z += Math.exp(x[r * cols + c] - m);
            for (int c = 0; c < cols; c++) {
                double v = x[r * cols + c] - m - Math.log(z);
                y[r * cols + c] = log ? v : Math.exp(v);
            }
        }
        return y;
    }

    @ParameterizedTest(name = "softmax {0}x{1} log={2}")
    @CsvSource({"7,33,false", "7,33,true", "1,1,false", "1,1,true", "3,257,false", "3,257,true", "64,10,true"})
    void softmax(int rows, int cols, boolean log) {
        GradCheck.check(log ? "log_softmax" : "softmax", new float[][] {GradCheck.uniform(rows * cols, 47, -4, 4)},
                new int[][] {{rows, cols}}, new boolean[] {true},
                t -> log ? Ops.logSoftmax(t[0]) : Ops.softmax(t[0]),
                x -> softmaxRef(x[0], rows, cols, log));
    }

    @Test
    void softmaxOfHugeLogitsIsExact() {
        try (Scope s = Scope.open()) {
            float[] y = Ops.softmax(Tensor.of(new float[] {1e4f, -1e4f, 1e4f}, 1, 3)).toFloatArray();
            assertArrayEquals(new float[] {0.5f, 0f, 0.5f}, y, 1e-7f);
        }
    }

    @Test
    void badAxesAreRejected() {
        try (Scope s = Scope.open()) {
            assertThrows(IllegalArgumentException.class, () -> Ops.sum(Tensor.zeros(3, 4), 2));
            assertThrows(IllegalArgumentException.class, () -> Ops.softmax(Tensor.zeros(3, 0)));
        }
    }
}

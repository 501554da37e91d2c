package dev.kiln.ops;

import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused bias + GELU through the Java API: gelu(x + bias) and the gradients of x and bias against a double reference
 * (the erf form, through erfc) and its finite differences, for x of rank 1 to 3; the fused op against the two ops it
 * replaces; bad calls.
 */
class BiasGeluGradTest {
    /** erfc to double precision (W. J. Cody's rational fits are not in the JDK: the continued fraction and series). */
    static double erfc(double z) {
        if (z < 0) return 2 - erfc(-z);
        if (z < 2) {  // erf series: sum (-1)^n z^(2n+1) / (n! (2n+1)), converges fast for z < 2
            double term = z, sum = z;
            for (int n = 1; n < 60; n++) {
                term *= -z * z / n;
                sum += term / (2 * n + 1);
            }
            return 1 - 2 / Math.sqrt(Math.PI) * sum;
        }
        double f = 0;  // continued fraction, evaluated from the tail
        for (int n = 80; n >= 1; n--) f = n / 2.0 / (z + f);
        return Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f);
    }

    static double gelu(double v) {
        return 0.5 * v * erfc(-v / Math.sqrt(2));
    }

    static double[] biasGeluRef(double[] x, double[] bias) {
        double[] y = new double[x.length];
        for (int k = 0; k < x.length; k++) y[k] = gelu(x[k] + bias[k % bias.length]);
        return y;
    }

    void biasGelu(int[] shape) {
        int n = GradCheck.numel(shape), cols = shape[shape.length - 1];
        GradCheck.check("bias_gelu", new float[][] {GradCheck.uniform(n, 51, -4, 4), GradCheck.uniform(cols, 52, -1, 1)},
                new int[][] {shape, {cols}}, new boolean[] {true, true},
                t -> Ops.biasGelu(t[0], t[1]), x -> biasGeluRef(x[0], x[1]));
    }

    @ParameterizedTest(name = "bias + gelu rows={0} cols={1}")
    @CsvSource({"1,1", "3,7", "5,257", "40,3"})
    void rowsOfAMatrix(int rows, int cols) {
        biasGelu(new int[] {rows, cols});
    }

    @Test
    void aVectorAndABatchOfSequences() {
        biasGelu(new int[] {9});
        biasGelu(new int[] {2, 3, 6});
    }

    @Test
    void fusedEqualsAddThenGelu() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(GradCheck.uniform(60, 53, -3, 3), 6, 10), b = Tensor.of(GradCheck.uniform(10, 54, -1, 1), 10);
            assertArrayEquals(Ops.gelu(Ops.add(x, b)).toFloatArray(), Ops.biasGelu(x, b).toFloatArray(), 0f);
        }
    }

    @Test
    void badCallsNameTheOpAndArgument() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.zeros(2, 3);
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> Ops.biasGelu(x, Tensor.zeros(2)));
            assertTrue(shape.getMessage().contains("bias_gelu") && shape.getMessage().contains("(2,)")
                    && shape.getMessage().contains("(2, 3)"), shape.getMessage());
            IllegalArgumentException nulls = assertThrows(IllegalArgumentException.class, () -> Ops.biasGelu(x, null));
            assertTrue(nulls.getMessage().contains("'bias'"), nulls.getMessage());
        }
    }
}

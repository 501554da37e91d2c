package dev.kiln.ops;

import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Layer norm through the Java API: forward and the gradients of x, gamma and beta against a double reference and its
 * finite differences, for leading shapes of rank 0 to 2, with and without gamma/beta, on rows a GPU gives to a warp
 * and to a block; no statistics kept when nothing is recorded; bad calls named.
 */
class LayerNormGradTest {
    /** (x - mean) / sqrt(var + eps) * gamma + beta over rows of {@code cols}; gamma/beta null mean 1/0. */
    static double[] lnRef(double[] x, double[] gamma, double[] beta, int cols, double eps) {
        double[] y = new double[x.length];
        for (int r = 0; r < x.length / cols; r++) {
            double mean = 0, var = 0;
            for (int c = 0; c < cols; c++) mean += x[r * cols + c];
            mean /= cols;
            for (int c = 0; c < cols; c++) var += (x[r * cols + c] - mean) * (x[r * cols + c] - mean);
            var /= cols;
            for (int c = 0; c < cols; c++) {
                double g = gamma == null ? 1 : gamma[c], b = beta == null ? 0 : beta[c];
                y[r * cols + c] = (x[r * cols + c] - mean) / Math.sqrt(var + eps) * g + b;
            }
        }
        return y;
    }

    /** Rows with different offsets and spreads. */
    static float[] rowsInput(int rows, int cols, long seed) {
        float[] x = GradCheck.uniform(rows * cols, seed, -1, 1);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) x[r * cols + c] = x[r * cols + c] * (0.5f + 0.25f * (r % 4)) + 0.5f * (r % 3) - 0.5f;
        }
        return x;
    }

    /** x has shape {@code lead} + (cols); every input is differentiable. */
    void layerNorm(int[] lead, int cols, boolean withGamma, boolean withBeta) {
        int rows = GradCheck.numel(lead);
        int[] shape = java.util.Arrays.copyOf(lead, lead.length + 1);
        shape[lead.length] = cols;
        float eps = 1e-5f;
        int gammaAt = withGamma ? 1 : -1, betaAt = withBeta ? (withGamma ? 2 : 1) : -1;
        int count = 1 + (withGamma ? 1 : 0) + (withBeta ? 1 : 0);
        float[][] inputs = new float[count][];
        int[][] shapes = new int[count][];
        inputs[0] = rowsInput(rows, cols, 101 + cols);
        shapes[0] = shape;
        if (withGamma) {
            inputs[gammaAt] = GradCheck.uniform(cols, 102, 0.5f, 1.5f);
            shapes[gammaAt] = new int[] {cols};
        }
        if (withBeta) {
            inputs[betaAt] = GradCheck.uniform(cols, 103, -1, 1);
            shapes[betaAt] = new int[] {cols};
        }
        boolean[] differentiable = new boolean[count];
        java.util.Arrays.fill(differentiable, true);
        GradCheck.check("layer_norm", inputs, shapes, differentiable,
                t -> Ops.layerNorm(t[0], withGamma ? t[gammaAt] : null, withBeta ? t[betaAt] : null, eps),
                x -> lnRef(x[0], withGamma ? x[gammaAt] : null, withBeta ? x[betaAt] : null, cols, eps));
    }

    @ParameterizedTest(name = "layer norm rows={0} cols={1} gamma={2} beta={3}")
    @CsvSource({"4,7,true,true", "3,33,true,false", "2,33,false,true", "5,8,false,false", "2,257,true,true",
            "1,1030,true,true", "9,2,true,true"})
    void rowsOfAMatrix(int rows, int cols, boolean withGamma, boolean withBeta) {
        layerNorm(new int[] {rows}, cols, withGamma, withBeta);
    }

    @Test
    void oneVectorAndABatchOfSequences() {
        layerNorm(new int[0], 19, true, true);        // x (C,)
        layerNorm(new int[] {2, 3}, 12, true, true);  // x (B, T, C)
    }

    @Test
    void inferenceKeepsNoStatisticsAndMatchesTraining() {
        try (Scope s = Scope.open()) {
            float[] data = rowsInput(3, 10, 5);
            Tensor x = Tensor.of(data, 3, 10);
            float[] inference = Ops.layerNorm(x, null, null, 1e-5f).toFloatArray();
            assertEquals(0, Autograd.tapeSize(), "nothing tracked: nothing recorded");
            Tensor xt = Tensor.of(data, 3, 10).requiresGrad();
            assertArrayEquals(inference, Ops.layerNorm(xt, null, null, 1e-5f).toFloatArray(), 0f);
            assertEquals(1, Autograd.tapeSize());
        }
    }

    @Test
    void onlyTrackedInputsGetGradients() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(rowsInput(2, 6, 6), 2, 6);
            Tensor gamma = Tensor.ones(6).requiresGrad(), beta = Tensor.zeros(6);
            Ops.sum(Ops.mul(Ops.layerNorm(x, gamma, beta, 1e-5f), Tensor.of(GradCheck.uniform(12, 7, -1, 1), 2, 6))).backward();
            assertNull(x.grad());
            assertNull(beta.grad());
            assertEquals(6, gamma.grad().numel());
        }
    }

    @Test
    void constantRowsGiveBeta() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.full(Device.cpu(), 3.5f, 2, 4);
            Tensor beta = Tensor.of(new float[] {1, -2, 0.5f, 4}, 4);
            assertArrayEquals(new float[] {1, -2, 0.5f, 4, 1, -2, 0.5f, 4},
                    Ops.layerNorm(x, Tensor.ones(4), beta, 1e-5f).toFloatArray(), 0f);
        }
    }

    @Test
    void badCallsNameTheOpAndArgument() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.zeros(2, 3);
            IllegalArgumentException gamma = assertThrows(IllegalArgumentException.class,
                    () -> Ops.layerNorm(x, Tensor.ones(4), null, 1e-5f));
            assertTrue(gamma.getMessage().contains("layer_norm") && gamma.getMessage().contains("'gamma'")
                    && gamma.getMessage().contains("(4,)"), gamma.getMessage());
            IllegalArgumentException beta = assertThrows(IllegalArgumentException.class,
                    () -> Ops.layerNorm(x, null, Tensor.zeros(3, 1), 1e-5f));
            assertTrue(beta.getMessage().contains("'beta'"), beta.getMessage());
            IllegalArgumentException eps = assertThrows(IllegalArgumentException.class, () -> Ops.layerNorm(x, null, null, 0f));
            assertTrue(eps.getMessage().contains("eps"), eps.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Ops.layerNorm(x, null, null, Float.NaN));
            IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                    () -> Ops.layerNorm(Tensor.zeros(3, 0), null, null, 1e-5f));
            assertTrue(empty.getMessage().contains("(3, 0)"), empty.getMessage());
            IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                    () -> Ops.layerNorm(Tensor.ofInts(Device.cpu(), new int[6], 2, 3), null, null, 1e-5f));
            assertTrue(dtype.getMessage().contains("'x'"), dtype.getMessage());
            // An empty batch is fine: nothing to normalize.
            assertEquals(0, Ops.layerNorm(Tensor.zeros(0, 5), null, null, 1e-5f).numel());
        }
    }
}

package dev.kiln.ops;

import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NormGradTest {
    /** Batch norm's backward cancels large terms in fp32 (it subtracts the mean of dy and of dy * x-hat). */
    static final double BN_TOL = 1e-3;

    static double[] bnRef(double[] x, double[] gamma, double[] beta, int n, int c, int hw, double eps) {
        double[] y = new double[x.length];
        for (int ch = 0; ch < c; ch++) {
            double mean = 0, var = 0;
            for (int i = 0; i < n; i++) for (int j = 0; j < hw; j++) mean += x[(i * c + ch) * hw + j];
            mean /= n * hw;
            for (int i = 0; i < n; i++) for (int j = 0; j < hw; j++) {
                double d = x[(i * c + ch) * hw + j] - mean;
                var += d * d;
            }
            var /= n * hw;
            for (int i = 0; i < n; i++) for (int j = 0; j < hw; j++) {
                int idx = (i * c + ch) * hw + j;
                y[idx] = (x[idx] - mean) / Math.sqrt(var + eps) * gamma[ch] + beta[ch];
            }
        }
        return y;
    }

    /** Evaluation form in double: the running statistics are constants; gamma/beta null mean 1/0. */
    static double[] bnEvalRef(double[] x, double[] gamma, double[] beta, float[] runningMean, float[] runningVar, int n,
                              int c, int hw, double eps) {
        double[] y = new double[x.length];
        for (int i = 0; i < n; i++) for (int ch = 0; ch < c; ch++) for (int j = 0; j < hw; j++) {
            int idx = (i * c + ch) * hw + j;
            double g = gamma == null ? 1 : gamma[ch], b = beta == null ? 0 : beta[ch];
            y[idx] = (x[idx] - runningMean[ch]) / Math.sqrt(runningVar[ch] + eps) * g + b;
        }
        return y;
    }

    @ParameterizedTest(name = "batch norm eval rank={0} n={1} c={2} h={3} w={4} gamma={5} beta={6}")
    @CsvSource({"4,4,3,5,5,true,true", "4,2,7,3,1,false,false", "4,3,2,4,4,true,false", "4,1,1,3,3,false,true",
            "2,6,5,1,1,true,true", "2,8,3,1,1,false,false", "2,1,4,1,1,true,false"})
    void batchNormEvaluation(int rank, int n, int c, int h, int w, boolean withGamma, boolean withBeta) {
        int hw = h * w;
        // Variances of the order of eps, so a backward that dropped or changed eps would show.
        float eps = 1e-2f;
        float[] runningMean = GradCheck.uniform(c, 74, -1, 1), runningVar = GradCheck.uniform(c, 75, 0.01f, 0.5f);
        int[] xShape = rank == 4 ? new int[] {n, c, h, w} : new int[] {n, c};
        int gammaAt = withGamma ? 1 : -1, betaAt = withBeta ? (withGamma ? 2 : 1) : -1;
        int count = 1 + (withGamma ? 1 : 0) + (withBeta ? 1 : 0);
        float[][] inputs = new float[count][];
        int[][] shapes = new int[count][];
        inputs[0] = GradCheck.uniform(n * c * hw, 76, -2, 2);
        shapes[0] = xShape;
        if (withGamma) {
            inputs[gammaAt] = GradCheck.uniform(c, 77, 0.5f, 1.5f);
            shapes[gammaAt] = new int[] {c};
        }
        if (withBeta) {
            inputs[betaAt] = GradCheck.uniform(c, 78, -1, 1);
            shapes[betaAt] = new int[] {c};
        }
        boolean[] differentiable = new boolean[count];
        java.util.Arrays.fill(differentiable, true);
        GradCheck.check("batch_norm_eval", inputs, shapes, differentiable,
                t -> Ops.batchNorm(t[0], withGamma ? t[gammaAt] : null, withBeta ? t[betaAt] : null,
                        Tensor.of(t[0].device(), runningMean, c), Tensor.of(t[0].device(), runningVar, c), false, 0.1f, eps),
                x -> bnEvalRef(x[0], withGamma ? x[gammaAt] : null, withBeta ? x[betaAt] : null, runningMean,
                        runningVar, n, c, hw, eps));
    }

    @Test
    void evaluationBackwardLeavesRunningStatisticsAlone() {
        try (Scope s = Scope.open()) {
            float[] rm0 = {0.5f, -1f}, rv0 = {2f, 0.25f};
            Tensor rm = Tensor.of(rm0, 2).requiresGrad(), rv = Tensor.of(rv0, 2).requiresGrad();
            Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2, 1).requiresGrad();
            Tensor gamma = Tensor.of(new float[] {2, 3}, 2).requiresGrad(), beta = Tensor.of(new float[] {0, 1}, 2);
            Ops.sum(Ops.batchNorm(x, gamma, beta, rm, rv, false, 0.1f, 1e-5f)).backward();
            // The statistics are constants: no gradient, no update. beta does not require grad: none computed.
            assertNull(rm.grad());
            assertNull(rv.grad());
            assertNull(beta.grad());
            assertArrayEquals(rm0, rm.toFloatArray());
            assertArrayEquals(rv0, rv.toFloatArray());
            // d sum(y) / dx = gamma / sqrt(rv + eps), per channel.
            float[] dx = x.grad().toFloatArray();
            assertEquals(2 / Math.sqrt(2 + 1e-5), dx[0], 1e-6);
            assertEquals(3 / Math.sqrt(0.25 + 1e-5), dx[2], 1e-5);
            assertNotNull(gamma.grad());
        }
    }

    @Test
    void evaluationStillNeedsRunningStatistics() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.ones(2, 3).requiresGrad(), rm = Tensor.zeros(3);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.batchNorm(x, null, null, rm, null, false, 0.1f, 1e-5f));
            assertTrue(e.getMessage().contains("running mean and variance"), e.getMessage());
        }
    }

    @ParameterizedTest(name = "batch norm n={0} c={1} h={2} w={3}")
    @CsvSource({"4,3,5,5", "2,7,3,1", "1,1,3,3", "5,2,1,1", "3,1,13,13"})
    void batchNormTraining(int n, int c, int h, int w) {
        int hw = h * w;
        GradCheck.check("batch_norm", new float[][] {GradCheck.uniform(n * c * hw, 71, -2, 2),
                        GradCheck.uniform(c, 72, 0.5f, 1.5f), GradCheck.uniform(c, 73, -1, 1)},
                new int[][] {{n, c, h, w}, {c}, {c}}, new boolean[] {true, true, true},
                t -> Ops.batchNorm(t[0], t[1], t[2], null, null, true, 0.1f, 1e-5f),
                x -> bnRef(x[0], x[1], x[2], n, c, hw, 1e-5), 1e-4, BN_TOL);
    }

    @ParameterizedTest(name = "batch norm (N, C) n={0} c={1}")
    @CsvSource({"4,3", "2,7", "33,5", "2,1"})
    void batchNormTraining2d(int n, int c) {
        GradCheck.check("batch_norm_2d", new float[][] {GradCheck.uniform(n * c, 79, -2, 2),
                        GradCheck.uniform(c, 80, 0.5f, 1.5f), GradCheck.uniform(c, 81, -1, 1)},
                new int[][] {{n, c}, {c}, {c}}, new boolean[] {true, true, true},
                t -> Ops.batchNorm(t[0], t[1], t[2], null, null, true, 0.1f, 1e-5f),
                x -> bnRef(x[0], x[1], x[2], n, c, 1, 1e-5), 1e-4, BN_TOL);
    }

    @Test
    void runningStatisticsAndEvaluation() {
        try (Scope s = Scope.open()) {
            // Channel 0 holds 1..4, channel 1 holds 10, 10, 10, 14 over (n=2, hw=2).
            Tensor x = Tensor.of(new float[] {1, 2, 10, 10, 3, 4, 10, 14}, 2, 2, 2, 1);
            Tensor rm = Tensor.zeros(2), rv = Tensor.ones(2);
            Ops.batchNorm(x, null, null, rm, rv, true, 0.5f, 1e-5f);
            // mean (2.5, 11); unbiased var (5/3, 4); running = 0.5 old + 0.5 batch
            assertArrayEquals(new float[] {1.25f, 5.5f}, rm.toFloatArray(), 1e-5f);
            assertArrayEquals(new float[] {0.5f + 5f / 6f, 2.5f}, rv.toFloatArray(), 1e-5f);
            float[] y = Ops.batchNorm(x, null, null, rm, rv, false, 0.5f, 1e-5f).toFloatArray();
            assertEquals((1 - 1.25) / Math.sqrt(0.5 + 5.0 / 6.0 + 1e-5), y[0], 1e-5);
        }
    }
}

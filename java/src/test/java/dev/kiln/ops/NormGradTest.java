package dev.kiln.ops;

import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class NormGradTest {
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

    @ParameterizedTest(name = "batch norm n={0} c={1} h={2} w={3}")
    @CsvSource({"4,3,5,5", "2,7,3,1", "1,1,3,3", "5,2,1,1", "3,1,13,13"})
    void batchNormTraining(int n, int c, int h, int w) {
        int hw = h * w;
        GradCheck.check("batch_norm", new float[][] {GradCheck.uniform(n * c * hw, 71, -2, 2),
                        GradCheck.uniform(c, 72, 0.5f, 1.5f), GradCheck.uniform(c, 73, -1, 1)},
                new int[][] {{n, c, h, w}, {c}, {c}}, new boolean[] {true, true, true},
                t -> Ops.batchNorm(t[0], t[1], t[2], null, null, true, 0.1f, 1e-5f),
                x -> bnRef(x[0], x[1], x[2], n, c, hw, 1e-5), 1e-4, 3e-3);
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

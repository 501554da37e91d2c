package dev.kiln.ops;

import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LossGradTest {
    @ParameterizedTest(name = "cross entropy N={0} C={1}")
    @CsvSource({"7,10", "1,1", "1,7", "33,2", "5,257"})
    void crossEntropy(int n, int c) {
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = (i * 7 + 3) % c;
        GradCheck.check("cross_entropy", new float[][] {GradCheck.uniform(n * c, 51, -3, 3)}, new int[][] {{n, c}},
                new boolean[] {true},
                t -> Ops.crossEntropy(t[0], Tensor.ofInts(t[0].device(), labels, n)),
                x -> {
                    double[] logp = ReductionGradTest.softmaxRef(x[0], n, c, true);
                    double loss = 0;
                    for (int i = 0; i < n; i++) loss -= logp[i * c + labels[i]];
                    return new double[] {loss / n};
                });
    }

    @Test
    void crossEntropyWithAnInvalidLabelIsNaNAndShapesAreChecked() {
        try (Scope s = Scope.open()) {
            Tensor logits = Tensor.zeros(2, 3);
            float loss = Ops.crossEntropy(logits, Tensor.ofInts(Device.cpu(), new int[] {0, 3}, 2)).item();
            assertTrue(Float.isNaN(loss), "label 3 of 3 classes: " + loss);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.crossEntropy(logits, Tensor.ofInts(Device.cpu(), new int[] {0, 1, 2}, 3)));
            assertTrue(e.getMessage().contains("(2, 3)") && e.getMessage().contains("(3,)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.crossEntropy(logits, Tensor.zeros(2)));
            assertTrue(e.getMessage().contains("int32"), e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 257})
    void bceWithLogits(int n) {
        float[] targets = GradCheck.uniform(n, 53, 0, 1);
        GradCheck.check("bce_with_logits", new float[][] {GradCheck.uniform(n, 54, -5, 5), targets},
                new int[][] {{n}, {n}}, new boolean[] {true, false},
                t -> Ops.bceWithLogits(t[0], t[1]),
                x -> {
                    double loss = 0;
                    for (int i = 0; i < n; i++) {
                        double p = 1 / (1 + Math.exp(-x[0][i]));
                        loss -= x[1][i] * Math.log(p) + (1 - x[1][i]) * Math.log(1 - p);
                    }
                    return new double[] {loss / n};
                });
    }

    @Test
    void bceIsStableForHugeLogits() {
        try (Scope s = Scope.open()) {
            float loss = Ops.bceWithLogits(Tensor.of(new float[] {100f, -100f}, 2), Tensor.of(new float[] {0f, 1f}, 2)).item();
            assertEquals(100f, loss, 1e-3f);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 33})
    void mseInBothArguments(int n) {
        GradCheck.check("mse", new float[][] {GradCheck.uniform(n, 55, -2, 2), GradCheck.uniform(n, 56, -2, 2)},
                new int[][] {{n, 1}, {n, 1}}, new boolean[] {true, true},
                t -> Ops.mse(t[0], t[1]),
                x -> {
                    double loss = 0;
                    for (int i = 0; i < n; i++) loss += (x[0][i] - x[1][i]) * (x[0][i] - x[1][i]);
                    return new double[] {loss / n};
                });
    }

    @Test
    void composedGraphReshapeAndReuse() {
        // f(x) = sum(relu(reshape(x) * x_reshaped) + x_reshaped): x used three times, gradients must add up.
        GradCheck.check("composed", new float[][] {GradCheck.uniform(12, 57, -1, 1)}, new int[][] {{3, 4}},
                new boolean[] {true},
                t -> {
                    Tensor r = Ops.reshape(t[0], 2, 6);
                    return Ops.sum(Ops.add(Ops.relu(Ops.mul(r, r)), r));
                },
                x -> {
                    double s = 0;
                    for (double v : x[0]) s += Math.max(v * v, 0) + v;
                    return new double[] {s};
                });
    }
}

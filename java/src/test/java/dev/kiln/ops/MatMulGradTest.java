package dev.kiln.ops;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MatMulGradTest {
    /** Reference C = op(A) op(B) for stored A (ar, ac), B (br, bc), over `batch` matrices (bShared: one B for all). */
    static double[] reference(double[] a, double[] b, int batch, int m, int n, int k, boolean ta, boolean tb, boolean bShared) {
        double[] c = new double[batch * m * n];
        for (int z = 0; z < batch; z++) {
            int ao = z * m * k, bo = bShared ? 0 : z * k * n;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double av = ta ? a[ao + p * m + i] : a[ao + i * k + p];
                        double bv = tb ? b[bo + j * k + p] : b[bo + p * n + j];
                        s += av * bv;
                    }
                    c[z * m * n + i * n + j] = s;
                }
        }
        return c;
    }

    @ParameterizedTest(name = "m={0} n={1} k={2} transA={3} transB={4}")
    @CsvSource({
            "1,1,1,false,false", "7,1,33,false,false", "7,33,1,true,false", "1,7,257,false,true", "33,7,257,true,true",
            "33,257,7,false,false", "257,1,7,true,true", "5,6,7,false,true"})
    void twoDimensional(int m, int n, int k, boolean ta, boolean tb) {
        int[] as = ta ? new int[] {k, m} : new int[] {m, k};
        int[] bs = tb ? new int[] {n, k} : new int[] {k, n};
        GradCheck.check("matmul", new float[][] {GradCheck.uniform(m * k, 1, -1, 1), GradCheck.uniform(k * n, 2, -1, 1)},
                new int[][] {as, bs}, new boolean[] {true, true},
                t -> Ops.matmul(t[0], t[1], ta, tb),
                x -> reference(x[0], x[1], 1, m, n, k, ta, tb, false));
    }

    @ParameterizedTest(name = "batched transA={0} transB={1}")
    @CsvSource({"false,false", "true,false", "false,true", "true,true"})
    void batched(boolean ta, boolean tb) {
        int batch = 3, m = 7, n = 4, k = 5;
        int[] as = ta ? new int[] {batch, k, m} : new int[] {batch, m, k};
        int[] bs = tb ? new int[] {batch, n, k} : new int[] {batch, k, n};
        GradCheck.check("bmm", new float[][] {GradCheck.uniform(batch * m * k, 3, -1, 1), GradCheck.uniform(batch * k * n, 4, -1, 1)},
                new int[][] {as, bs}, new boolean[] {true, true},
                t -> Ops.matmul(t[0], t[1], ta, tb),
                x -> reference(x[0], x[1], batch, m, n, k, ta, tb, false));
    }

    @ParameterizedTest(name = "folded leading dims, transB={0}")
    @CsvSource({"false", "true"})
    void leadingDimensionsFoldIntoM(boolean tb) {
        // (2, 3, 5) x (5, 4): b is shared by all six rows, so its gradient sums over them.
        int[] bs = tb ? new int[] {4, 5} : new int[] {5, 4};
        GradCheck.check("matmul-folded", new float[][] {GradCheck.uniform(30, 5, -1, 1), GradCheck.uniform(20, 6, -1, 1)},
                new int[][] {{2, 3, 5}, bs}, new boolean[] {true, true},
                t -> Ops.matmul(t[0], t[1], false, tb),
                x -> reference(x[0], x[1], 1, 6, 4, 5, false, tb, true));
    }

    @Test
    void linearMatchesItsDefinition() {
        // y = x W^T + b with x (7, 33), W (5, 33), b (5)
        GradCheck.check("linear", new float[][] {GradCheck.uniform(7 * 33, 7, -1, 1), GradCheck.uniform(5 * 33, 8, -1, 1),
                        GradCheck.uniform(5, 9, -1, 1)},
                new int[][] {{7, 33}, {5, 33}, {5}}, new boolean[] {true, true, true},
                t -> Ops.linear(t[0], t[1], t[2]),
                x -> {
                    double[] y = reference(x[0], x[1], 1, 7, 5, 33, false, true, false);
                    for (int i = 0; i < y.length; i++) y[i] += x[2][i % 5];
                    return y;
                });
    }

    @Test
    void shapeErrorsNameTheShapes() {
        try (dev.kiln.Scope s = dev.kiln.Scope.open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.matmul(dev.kiln.Tensor.zeros(2, 3), dev.kiln.Tensor.zeros(4, 5)));
            assertTrue(e.getMessage().contains("matmul") && e.getMessage().contains("(2, 3)") && e.getMessage().contains("(4, 5)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.matmul(dev.kiln.Tensor.zeros(3), dev.kiln.Tensor.zeros(3, 5)));
            assertTrue(e.getMessage().contains("rank >= 2"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.matmul(dev.kiln.Tensor.zeros(2, 3, 4), dev.kiln.Tensor.zeros(3, 4, 5)));
            assertTrue(e.getMessage().contains("unsupported operand shapes"), e.getMessage());
        }
    }
}

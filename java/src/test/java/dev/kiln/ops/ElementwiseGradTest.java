package dev.kiln.ops;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.function.BiFunction;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ElementwiseGradTest {
    private static final String[] OPS = {"add", "sub", "mul", "div"};

    private static BiFunction<Tensor, Tensor, Tensor> kiln(String op) {
        return switch (op) {
            case "add" -> Ops::add;
            case "sub" -> Ops::sub;
            case "mul" -> Ops::mul;
            default -> Ops::div;
        };
    }

    private static DoubleBinaryOperator ref(String op) {
        return switch (op) {
            case "add" -> Double::sum;
            case "sub" -> (a, b) -> a - b;
            case "mul" -> (a, b) -> a * b;
            default -> (a, b) -> a / b;
        };
    }

    /** Checks op over a of shape as and b of shape bs, where the smaller one broadcasts over leading dimensions. */
    private static void binary(String op, int[] as, int[] bs) {
        int na = GradCheck.numel(as), nb = GradCheck.numel(bs);
        int n = Math.max(na, nb);
        DoubleBinaryOperator f = ref(op);
        GradCheck.check(op + " " + java.util.Arrays.toString(as) + " " + java.util.Arrays.toString(bs),
                new float[][] {GradCheck.uniform(na, 11, -2, 2), GradCheck.awayFromZero(nb, 12, 0.5f, 2f)},
                new int[][] {as, bs}, new boolean[] {true, true},
                t -> kiln(op).apply(t[0], t[1]),
                x -> {
                    double[] y = new double[n];
                    for (int i = 0; i < n; i++) y[i] = f.applyAsDouble(x[0][na == n ? i : i % na], x[1][nb == n ? i : i % nb]);
                    return y;
                });
    }

    @ParameterizedTest
    @ValueSource(strings = {"add", "sub", "mul", "div"})
    void sameShape(String op) {
        binary(op, new int[] {257}, new int[] {257});
        binary(op, new int[] {1}, new int[] {1});
        binary(op, new int[] {7, 33}, new int[] {7, 33});
    }

    @ParameterizedTest
    @ValueSource(strings = {"add", "sub", "mul", "div"})
    void broadcastOverLeadingDimensions(String op) {
        binary(op, new int[] {7, 33}, new int[] {33});      // b broadcast
        binary(op, new int[] {33}, new int[] {7, 33});      // a broadcast
        binary(op, new int[] {5, 7, 3}, new int[] {7, 3});  // two leading dims folded
        binary(op, new int[] {257, 1}, new int[] {1});      // one-element operand
        binary(op, new int[] {1}, new int[] {7, 33});
        binary(op, new int[] {3, 7}, new int[] {1, 7});     // leading 1s are free
        binary(op, new int[] {3}, new int[] {1, 1, 3});     // the result takes the larger rank: (1, 1, 3)
        binary(op, new int[] {1, 1, 1}, new int[] {2, 3});  // one element of higher rank: (1, 2, 3)
    }

    @Test
    void theResultHasTheLargerRank() {
        try (Scope s = Scope.open()) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {1, 1, 3},
                    Ops.add(Tensor.zeros(3), Tensor.zeros(1, 1, 3)).shape());
            org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {1, 1, 3},
                    Ops.mul(Tensor.zeros(1, 1, 3), Tensor.zeros(3)).shape());
            org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {1, 2, 3},
                    Ops.sub(Tensor.zeros(1, 1, 1), Tensor.zeros(2, 3)).shape());
            org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {2, 3},
                    Ops.div(Tensor.zeros(2, 3), Tensor.zeros(1)).shape());
        }
    }

    @Test
    void incompatibleShapesAreRejected() {
        try (Scope s = Scope.open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.add(Tensor.zeros(7, 33), Tensor.zeros(7)));
            assertTrue(e.getMessage().contains("add") && e.getMessage().contains("(7, 33)") && e.getMessage().contains("(7,)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Ops.biasAdd(Tensor.zeros(4, 5), Tensor.zeros(4)));
            // An empty bias against an empty last dimension broadcasts (a Linear with no outputs); found by BadCallProperties.
            Tensor x = Tensor.zeros(3, 0).requiresGrad(), b = Tensor.zeros(0).requiresGrad();
            Tensor y = Ops.biasAdd(x, b);
            assertEquals(0, y.numel());
            org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {3, 0}, y.shape());
            Ops.sum(y).backward();
            org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {0}, b.grad().shape());
        }
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    static double erf(double x) {
        // Abramowitz-Stegun 7.1.26 is too coarse for a gradient check; integrate the series instead.
        double t = Math.abs(x), sum = 0, term = t;
        for (int n = 0; n < 200; n++) {
            sum += term / (2 * n + 1);
            term *= -t * t / (n + 1);
            if (Math.abs(term) < 1e-18) break;
        }
        return Math.copySign(2 / Math.sqrt(Math.PI) * sum, x);
    }

    private static void activation(String name, UnaryOperator<Tensor> kiln, DoubleUnaryOperator ref, int n) {
        GradCheck.check(name + " n=" + n, new float[][] {GradCheck.uniform(n, 21, -3, 3)}, new int[][] {{n}},
                new boolean[] {true}, t -> kiln.apply(t[0]),
                x -> java.util.Arrays.stream(x[0]).map(ref).toArray());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 33, 257})
    void activations(int n) {
        activation("relu", Ops::relu, x -> Math.max(x, 0), n);
        activation("leaky_relu", x -> Ops.leakyRelu(x, 0.1f), x -> x > 0 ? x : 0.1 * x, n);
        activation("tanh", Ops::tanh, Math::tanh, n);
        activation("sigmoid", Ops::sigmoid, ElementwiseGradTest::sigmoid, n);
        activation("gelu", Ops::gelu, x -> 0.5 * x * (1 + erf(x / Math.sqrt(2))), n);
        activation("scale", x -> Ops.scale(x, -1.75f), x -> -1.75 * x, n);
        activation("neg", Ops::neg, x -> -x, n);
    }

    @ParameterizedTest
    @CsvSource({"5,7", "1,1", "3,257"})
    void biasAddAlone(int rows, int cols) {
        GradCheck.check("bias_add " + rows + "x" + cols,
                new float[][] {GradCheck.uniform(rows * cols, 23, -2, 2), GradCheck.uniform(cols, 24, -1, 1)},
                new int[][] {{rows, cols}, {cols}}, new boolean[] {true, true},
                t -> Ops.biasAdd(t[0], t[1]),
                x -> {
                    double[] y = new double[rows * cols];
                    for (int i = 0; i < y.length; i++) y[i] = x[0][i] + x[1][i % cols];
                    return y;
                });
    }

    @Test
    void flattenPassesGradientsBack() {
        // flatten(x) * c: the gradient is c laid back out in x's (2, 3, 4) shape.
        float[] c = GradCheck.uniform(24, 26, -1, 1);
        GradCheck.check("flatten", new float[][] {GradCheck.uniform(24, 25, -1, 1)}, new int[][] {{2, 3, 4}},
                new boolean[] {true},
                t -> {
                    Tensor f = Ops.flatten(t[0]);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {2, 12}, f.shape());
                    return Ops.mul(f, Tensor.of(t[0].device(), c, 2, 12));
                },
                x -> {
                    double[] y = new double[24];
                    for (int i = 0; i < 24; i++) y[i] = x[0][i] * c[i];
                    return y;
                });
    }

    @Test
    void extremeInputsStayFinite() {
        try (Scope s = Scope.open()) {
            float[] big = {-100f, -30f, 30f, 100f};
            for (float v : Ops.sigmoid(Tensor.of(big, 4)).toFloatArray()) assertTrue(Float.isFinite(v) && v >= 0 && v <= 1);
            float[] g = Ops.gelu(Tensor.of(big, 4)).toFloatArray();
            assertEquals(0f, g[0], 1e-6f);
            assertEquals(100f, g[3], 1e-4f);
        }
    }

    @Test
    void dropoutMatchesAnIndependentPhiloxMask() {
        int n = 257;
        float p = 0.3f;
        long seed = 99;
        long offset = 10;
        float[] mask = new float[n];
        for (int i = 0; i < n; i++) {
            long counter = offset + i / 4;
            int[] block = dev.kiln.RandomTestAccess.philox(new int[] {(int) counter, (int) (counter >>> 32), 0, 0}, (int) seed, (int) (seed >>> 32));
            float u = (block[i % 4] >>> 8) * 0x1p-24f;
            mask[i] = u >= p ? 1f / (1f - p) : 0f;
        }
        GradCheck.check("dropout", new float[][] {GradCheck.uniform(n, 31, -1, 1)}, new int[][] {{n}}, new boolean[] {true},
                t -> Ops.dropout(t[0], p, new Generator(seed, offset), true),  // per device: the same mask everywhere
                x -> {
                    double[] y = new double[n];
                    for (int i = 0; i < n; i++) y[i] = x[0][i] * mask[i];
                    return y;
                });
        Generator g = new Generator(seed, offset);
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.ones(5);
            assertSame(x, Ops.dropout(x, 0.5f, g, false), "eval mode is the identity");
            assertThrows(IllegalArgumentException.class, () -> Ops.dropout(x, 1f, g, true));
        }
    }
}

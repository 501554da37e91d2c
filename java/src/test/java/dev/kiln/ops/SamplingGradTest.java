package dev.kiln.ops;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sampling family through the Java API: reparameterization against a double reference built on the generator's
 * own normal stream (eps held fixed by seeding a fresh generator for every evaluation), the Gaussian KL against its
 * closed form, both with gradients checked by finite differences; same seed, same z; bad calls.
 */
class SamplingGradTest {
    private static final long SEED = 20261201L;

    /** The noise the op draws: the first n normals of a fresh generator with SEED (Tensor.randn's stream). */
    private static double[] eps(int n) {
        try (Tensor e = Tensor.randn(new Generator(SEED), Device.cpu(), n)) {
            float[] f = e.toFloatArray();
            double[] d = new double[n];
            for (int i = 0; i < n; i++) d[i] = f[i];
            return d;
        }
    }

    @ParameterizedTest(name = "reparameterize n={0}")
    @ValueSource(ints = {1, 7, 33, 260})
    void reparameterize(int n) {
        double[] eps = eps(n);
        GradCheck.check("reparameterize", new float[][] {GradCheck.uniform(n, 3, -2, 2), GradCheck.uniform(n, 4, -3, 2)},
                new int[][] {{n}, {n}}, new boolean[] {true, true},
                t -> Ops.reparameterize(t[0], t[1], new Generator(SEED)),
                x -> {
                    double[] z = new double[n];
                    for (int i = 0; i < n; i++) z[i] = x[0][i] + Math.exp(0.5 * x[1][i]) * eps[i];
                    return z;
                });
    }

    @ParameterizedTest(name = "gaussian KL ({0}, {1})")
    @CsvSource({"1,1", "4,3", "7,20", "2,513"})
    void gaussianKl(int batch, int dim) {
        int n = batch * dim;
        GradCheck.check("gaussian_kl", new float[][] {GradCheck.uniform(n, 5, -2, 2), GradCheck.uniform(n, 6, -3, 2)},
                new int[][] {{batch, dim}, {batch, dim}}, new boolean[] {true, true},
                t -> Ops.gaussianKl(t[0], t[1]),
                x -> {
                    double s = 0;
                    for (int i = 0; i < n; i++) s += -0.5 * (1 + x[1][i] - x[0][i] * x[0][i] - Math.exp(x[1][i]));
                    return new double[] {s / batch};
                });
    }

    /** A VAE-shaped step: KL + a loss of z reach mu and logvar through both ops, and each generator draw is new. */
    @Test
    void sameGeneratorStateSameSampleAndDrawsAdvance() {
        try (Scope s = Scope.open()) {
            Tensor mu = Tensor.of(new float[] {0.5f, -1f, 2f, 0f}, 2, 2), logvar = Tensor.of(new float[] {0f, 1f, -1f, 0.5f}, 2, 2);
            Generator a = new Generator(9), b = new Generator(9);
            float[] first = Ops.reparameterize(mu, logvar, a).toFloatArray();
            assertArrayEquals(first, Ops.reparameterize(mu, logvar, b).toFloatArray(), "same state, same bits");
            assertFalse(java.util.Arrays.equals(first, Ops.reparameterize(mu, logvar, a).toFloatArray()),
                    "the generator advanced: a second draw differs");
            assertEquals(0.0, Ops.gaussianKl(Tensor.zeros(3, 5), Tensor.zeros(3, 5)).item(), 0.0, "KL of N(0, I) from itself");
        }
    }

    @Test
    void badCallsNameTheOpAndArgument() {
        try (Scope s = Scope.open()) {
            Tensor mu = Tensor.zeros(2, 3);
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> Ops.reparameterize(mu, Tensor.zeros(3, 2), new Generator(1)));
            assertTrue(shape.getMessage().contains("reparameterize") && shape.getMessage().contains("(3, 2)"), shape.getMessage());
            IllegalArgumentException gen = assertThrows(IllegalArgumentException.class, () -> Ops.reparameterize(mu, mu, null));
            assertTrue(gen.getMessage().contains("generator"), gen.getMessage());
            IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
                    () -> Ops.gaussianKl(Tensor.zeros(6), Tensor.zeros(6)));
            assertTrue(rank.getMessage().contains("gaussian_kl") && rank.getMessage().contains("(N, D)"), rank.getMessage());
            IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                    () -> Ops.gaussianKl(Tensor.ofInts(Device.cpu(), new int[6], 2, 3), mu));
            assertTrue(dtype.getMessage().contains("'mu'"), dtype.getMessage());
        }
    }
}

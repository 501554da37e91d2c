package dev.kiln.ops;

import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Embedding and sinusoidal positions through the Java API: the lookup and its weight gradient against a double
 * reference and finite differences (indices of rank 1 to 3, repeated indices, unused rows), NaN rows for indices out
 * of range and no gradient from them, the same gradient bits on every run and every device, the encodings against
 * Math.sin/cos, and bad calls.
 */
class EmbeddingGradTest {
    /** Indices in [0, vocab), every third one repeating the first so that rows collect several positions. */
    static int[] indices(int n, int vocab, long seed) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i % 3 == 2 ? idx[0] : rnd.nextInt(vocab);
        return idx;
    }

    static double[] embeddingRef(int[] idx, double[] weight, int dim) {
        double[] y = new double[idx.length * dim];
        for (int i = 0; i < idx.length; i++) System.arraycopy(weight, idx[i] * dim, y, i * dim, dim);
        return y;
    }

    /** indices of shape {@code idxShape} into a (vocab, dim) table; the table is the differentiable input. */
    void embedding(int[] idxShape, int vocab, int dim) {
        int[] idx = indices(GradCheck.numel(idxShape), vocab, 31L * vocab + dim);
        GradCheck.check("embedding", new float[][] {GradCheck.uniform(vocab * dim, 41, -1, 1)},
                new int[][] {{vocab, dim}}, new boolean[] {true},
                t -> Ops.embedding(Tensor.ofInts(t[0].device(), idx, idxShape), t[0]),
                x -> embeddingRef(idx, x[0], dim));
    }

    @ParameterizedTest(name = "embedding n={0} vocab={1} dim={2}")
    @CsvSource({"1,1,1", "5,7,3", "12,4,5", "40,100,8", "6,3,300"})
    void indicesOfAVector(int n, int vocab, int dim) {
        embedding(new int[] {n}, vocab, dim);
    }

    @Test
    void indicesOfAnyShape() {
        embedding(new int[] {2, 3}, 5, 4);
        embedding(new int[] {2, 2, 3}, 6, 2);
    }

    @Test
    void outOfRangeIndicesGiveNanRowsAndNoGradient() {
        try (Scope s = Scope.open()) {
            Tensor weight = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2).requiresGrad();
            Tensor idx = Tensor.ofInts(Device.cpu(), new int[] {2, -1, 3, 2, 0}, 5);
            Tensor y = Ops.embedding(idx, weight);
            assertArrayEquals(new int[] {5, 2}, y.shape());
            float[] got = y.toFloatArray();
            assertArrayEquals(new float[] {5, 6}, new float[] {got[0], got[1]}, 0f);
            for (int k = 2; k < 6; k++) assertTrue(Float.isNaN(got[k]), "row of an out-of-range index: " + got[k]);
            assertArrayEquals(new float[] {1, 2}, new float[] {got[8], got[9]}, 0f);
            Autograd.backward(y, Tensor.of(new float[] {1, 10, 100, 1000, 1e4f, 1e5f, 2, 20, 3, 30}, 5, 2));
            // Row 2 gets positions 0 and 3; row 0 position 4; row 1 nothing; positions 1 and 2 are ignored.
            assertArrayEquals(new float[] {3, 30, 0, 0, 3, 30}, weight.grad().toFloatArray(), 0f);
        }
    }

    /** Many positions of one row, with magnitudes that make the order of additions visible: same bits every time. */
    @Test
    void gradientBitsAreReproducibleAndEqualTheSequentialSum() {
        int n = 3000, vocab = 4, dim = 3;
        int[] idx = indices(n, vocab, 9);
        float[] seed = GradCheck.uniform(n * dim, 10, -1, 1);
        for (int k = 0; k < seed.length; k += 5) seed[k] *= 1e4f;
        float[] sequential = new float[vocab * dim];
        for (int i = 0; i < n; i++) for (int c = 0; c < dim; c++) sequential[idx[i] * dim + c] += seed[i * dim + c];
        for (Device device : GradCheck.devices()) {
            for (int run = 0; run < 2; run++) {
                try (Scope s = Scope.open()) {
                    Tensor weight = Tensor.zeros(device, vocab, dim).requiresGrad();
                    Tensor y = Ops.embedding(Tensor.ofInts(device, idx, n), weight);
                    Autograd.backward(y, Tensor.of(device, seed, n, dim));
                    assertArrayEquals(sequential, weight.grad().toFloatArray(), 0f, "on " + device + ", run " + run);
                }
            }
        }
    }

    @Test
    void sinusoidalPositionsMatchTheirDefinition() {
        for (Device device : GradCheck.devices()) {
            try (Scope s = Scope.open()) {
                int len = 9, dim = 7, start = 40;  // an odd dim: the last column is a sine alone
                float[] got = Ops.sinusoidalPositions(device, len, dim, start).toFloatArray();
                for (int t = 0; t < len; t++) {
                    for (int c = 0; c < dim; c++) {
                        double w = Math.pow(10000, -(double) (c - c % 2) / dim), a = (start + t) * w;
                        assertEquals(c % 2 == 0 ? Math.sin(a) : Math.cos(a), got[t * dim + c], 1e-7, "(" + t + ", " + c + ") on " + device);
                    }
                }
                assertEquals(0, Autograd.tapeSize(), "a constant: not recorded");
                assertArrayEquals(new int[] {0, 4}, Ops.sinusoidalPositions(device, 0, 4, 0).shape());
            }
        }
    }

    @Test
    void badCallsNameTheOpAndArgument() {
        try (Scope s = Scope.open()) {
            Tensor weight = Tensor.zeros(5, 3);
            IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                    () -> Ops.embedding(Tensor.zeros(4), weight));
            assertTrue(dtype.getMessage().contains("embedding") && dtype.getMessage().contains("'indices'")
                    && dtype.getMessage().contains("i32"), dtype.getMessage());
            IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
                    () -> Ops.embedding(Tensor.ofInts(Device.cpu(), new int[] {0, 1}, 2), Tensor.zeros(15)));
            assertTrue(rank.getMessage().contains("'weight'") && rank.getMessage().contains("(V, E)"), rank.getMessage());
            IllegalArgumentException wdtype = assertThrows(IllegalArgumentException.class,
                    () -> Ops.embedding(Tensor.ofInts(Device.cpu(), new int[] {0}, 1), Tensor.ofInts(Device.cpu(), new int[6], 2, 3)));
            assertTrue(wdtype.getMessage().contains("'weight'"), wdtype.getMessage());
            IllegalArgumentException nulls = assertThrows(IllegalArgumentException.class, () -> Ops.embedding(null, weight));
            assertTrue(nulls.getMessage().contains("'indices'"), nulls.getMessage());
            IllegalArgumentException pos = assertThrows(IllegalArgumentException.class,
                    () -> Ops.sinusoidalPositions(Device.cpu(), 4, 8, -1));
            assertTrue(pos.getMessage().contains("sinusoidal_positions") && pos.getMessage().contains("start=-1"), pos.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Ops.sinusoidalPositions(null, 4, 8, 0));
            // No positions: an empty result, and the table's gradient is all zeros.
            Tensor w = Tensor.ones(5, 3).requiresGrad();
            Tensor y = Ops.embedding(Tensor.ofInts(Device.cpu(), new int[0], 0), w);
            assertArrayEquals(new int[] {0, 3}, y.shape());
            Autograd.backward(y, Tensor.zeros(0, 3));
            assertArrayEquals(new float[15], w.grad().toFloatArray(), 0f);
        }
    }
}

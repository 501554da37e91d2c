package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.RandomTestAccess;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fused attention through the Java API in its three layouts (heads-major q, k, v; the packed QKV of self-attention;
 * queries against packed keys and values), against a double-precision reference that builds every score, the softmax
 * over the visible keys and the dropout mask from an independent Philox (RandomTest's): forward values, and gradients
 * of every input by central differences of the reference (GradCheck), with and without each mask, with dropout (its
 * counters held fixed by a fresh generator per evaluation), T != S, T = 1, odd T, D = 32 and 64, key lengths with an
 * empty sequence. Also: tiles past 64 queries and keys, bf16 operands, inference without lse, the generator's
 * advance, and bad calls.
 */
class AttentionGradTest {
    private static final long SEED = 20261207L, OFFSET = 33;

    /** Where element (b, h, i, e) of an operand lies in its flat array (i a query or key position). */
    @FunctionalInterface
    interface Index {
        int at(int b, int h, int i, int e);
    }

    /** The sizes and masks of one case. */
    record Spec(int n, int h, int t, int s, int d, boolean causal, int[] lengths, float dropout) {
        double scale() {
            return 1.0 / Math.sqrt(d);
        }

        AttentionOptions options(Device device) {
            AttentionOptions o = AttentionOptions.none();
            if (causal) o = o.causal();
            if (lengths != null) o = o.keyLengths(Tensor.ofInts(device, lengths, n));
            if (dropout > 0) o = o.dropout(dropout, new Generator(SEED, OFFSET));  // fresh: the same mask every call
            return o;
        }
    }

    static Index heads(Spec c, int len) {
        return (b, h, i, e) -> ((b * c.h + h) * len + i) * c.d + e;
    }

    static Index tokens(Spec c) {  // (N, T, H, D)
        return (b, h, i, e) -> ((b * c.t + i) * c.h + h) * c.d + e;
    }

    static Index packed(Spec c, int len, int parts, int part) {  // (N, len, parts, H, D)
        return (b, h, i, e) -> (((b * len + i) * parts + part) * c.h + h) * c.d + e;
    }

    /** The dropout factor of weight (b, h, t, s): Philox word e % 4 of block OFFSET + e / 4, kept when u >= p. */
    static double keep(Spec c, int b, int h, int t, int s) {
        if (c.dropout == 0) return 1;
        long e = (((long) b * c.h + h) * c.t + t) * c.s + s, counter = OFFSET + e / 4;
        int[] block = RandomTestAccess.philox(new int[] {(int) counter, (int) (counter >>> 32), 0, 0}, (int) SEED,
                (int) (SEED >>> 32));
        float u = (block[(int) (e % 4)] >>> 8) * 0x1p-24f;
        return u >= c.dropout ? 1.0 / (1.0 - c.dropout) : 0.0;
    }

    /** o = (softmax(scale q k^T + mask) * dropout) v in double, written at oi into an array of outSize. */
    static double[] reference(Spec c, double[] q, Index qi, double[] k, Index ki, double[] v, Index vi, Index oi, int outSize) {
        double[] out = new double[outSize];
        double[] x = new double[c.s];
        for (int b = 0; b < c.n; b++) {
            int len = c.lengths == null ? c.s : c.lengths[b];
            for (int h = 0; h < c.h; h++) {
                for (int t = 0; t < c.t; t++) {
                    double m = Double.NEGATIVE_INFINITY;
                    for (int s = 0; s < c.s; s++) {
                        boolean visible = s < len && (!c.causal || s <= t + c.s - c.t);
                        double dot = 0;
                        for (int e = 0; e < c.d; e++) dot += q[qi.at(b, h, t, e)] * k[ki.at(b, h, s, e)];
                        x[s] = visible ? c.scale() * dot : Double.NEGATIVE_INFINITY;
                        m = Math.max(m, x[s]);
                    }
                    if (m == Double.NEGATIVE_INFINITY) continue;  // sees no key: 0
                    double sum = 0;
                    for (int s = 0; s < c.s; s++) sum += x[s] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(x[s] - m);
                    for (int s = 0; s < c.s; s++) {
                        if (x[s] == Double.NEGATIVE_INFINITY) continue;
                        double w = Math.exp(x[s] - m) / sum * keep(c, b, h, t, s);
                        for (int e = 0; e < c.d; e++) out[oi.at(b, h, t, e)] += w * v[vi.at(b, h, s, e)];
                    }
                }
            }
        }
        return out;
    }

    // ---- gradient checks, one per layout -------------------------------------------------------------------------

    @ParameterizedTest(name = "attention n={0} h={1} t={2} s={3} d={4} causal={5} lengths={6} dropout={7}")
    @CsvSource({
        "1, 2, 5, 7, 32, false, '', 0",      // T != S
        "2, 1, 1, 9, 64, false, '', 0",      // T = 1
        "1, 2, 7, 7, 32, true, '', 0",       // odd T, causal
        "2, 1, 6, 4, 32, true, '', 0",       // causal with T > S: the first queries see nothing
        "1, 1, 5, 5, 64, true, '', 0",       // D = 64
        "3, 1, 4, 6, 32, false, '6 0 2', 0", // key lengths, one sequence empty
        "2, 2, 5, 5, 32, true, '3 5', 0",    // causal and lengths
        "1, 2, 5, 6, 32, false, '', 0.3",    // dropout
        "2, 1, 5, 5, 32, true, '5 2', 0.25", // everything at once
    })
    void headsMajor(int n, int h, int t, int s, int d, boolean causal, String lengths, float dropout) {
        Spec c = new Spec(n, h, t, s, d, causal, lengths(lengths), dropout);
        float[][] in = {GradCheck.uniform(n * h * t * d, 1, -1.5f, 1.5f), GradCheck.uniform(n * h * s * d, 2, -1.5f, 1.5f),
                GradCheck.uniform(n * h * s * d, 3, -1, 1)};
        GradCheck.check("attention", in, new int[][] {{n, h, t, d}, {n, h, s, d}, {n, h, s, d}}, new boolean[] {true, true, true},
                ts -> Ops.attention(ts[0], ts[1], ts[2], c.options(ts[0].device())),
                x -> reference(c, x[0], heads(c, t), x[1], heads(c, s), x[2], heads(c, s), heads(c, t), n * h * t * d));
    }

    @ParameterizedTest(name = "selfAttention n={0} t={1} h={2} d={3} causal={4} dropout={5}")
    @CsvSource({"2, 5, 2, 32, true, 0", "1, 1, 2, 64, false, 0", "1, 4, 2, 32, true, 0.2", "1, 3, 3, 32, false, 0"})
    void packedSelfAttention(int n, int t, int h, int d, boolean causal, float dropout) {
        Spec c = new Spec(n, h, t, t, d, causal, null, dropout);
        GradCheck.check("self_attention", new float[][] {GradCheck.uniform(n * t * 3 * h * d, 4, -1.5f, 1.5f)},
                new int[][] {{n, t, 3, h, d}}, new boolean[] {true},
                ts -> Ops.selfAttention(ts[0], c.options(ts[0].device())),
                x -> reference(c, x[0], packed(c, t, 3, 0), x[0], packed(c, t, 3, 1), x[0], packed(c, t, 3, 2), tokens(c),
                        n * t * h * d));
    }

    @ParameterizedTest(name = "crossAttention n={0} t={1} s={2} h={3} d={4} lengths={5} causal={6}")
    @CsvSource({
        "2, 3, 7, 2, 32, '7 3', false",  // cross-attention to a padded memory
        "2, 1, 6, 2, 64, '2 6', true",   // one decoding step against a cache of capacity 6
        "1, 4, 4, 1, 32, '', true",
    })
    void crossAttentionToPackedKeysAndValues(int n, int t, int s, int h, int d, String lengths, boolean causal) {
        Spec c = new Spec(n, h, t, s, d, causal, lengths(lengths), 0f);
        GradCheck.check("cross_attention", new float[][] {GradCheck.uniform(n * t * h * d, 5, -1.5f, 1.5f),
                        GradCheck.uniform(n * s * 2 * h * d, 6, -1.5f, 1.5f)},
                new int[][] {{n, t, h, d}, {n, s, 2, h, d}}, new boolean[] {true, true},
                ts -> Ops.crossAttention(ts[0], ts[1], c.options(ts[0].device())),
                x -> reference(c, x[0], tokens(c), x[1], packed(c, s, 2, 0), x[1], packed(c, s, 2, 1), tokens(c), n * t * h * d));
    }

    // ---- forward values at sizes that span several tiles ----------------------------------------------------------

    @ParameterizedTest(name = "forward t={0} s={1} d={2} causal={3}")
    @CsvSource({"70, 70, 64, true", "129, 67, 32, false", "1, 130, 64, false", "67, 129, 17, true"})
    void forwardMatchesTheReferenceAcrossTiles(int t, int s, int d, boolean causal) {
        Spec c = new Spec(2, 2, t, s, d, causal, new int[] {s, s / 2 + 1}, 0.1f);
        float[] q = GradCheck.uniform(c.n * c.h * t * d, 7, -2, 2), k = GradCheck.uniform(c.n * c.h * s * d, 8, -2, 2),
                v = GradCheck.uniform(c.n * c.h * s * d, 9, -1, 1);
        double[] want = reference(c, widen(q), heads(c, t), widen(k), heads(c, s), widen(v), heads(c, s), heads(c, t), q.length);
        try (Scope scope = Scope.open()) {
            for (Device device : GradCheck.devices()) {
                float[] got = Ops.attention(Tensor.of(device, q, c.n, c.h, t, d), Tensor.of(device, k, c.n, c.h, s, d),
                        Tensor.of(device, v, c.n, c.h, s, d), c.options(device)).toFloatArray();
                // fp32 sums of exp2 weights, tile by tile: the worst element (where v's terms cancel) measured 1.5e-6
                // on the CPU and 2.3e-6 from the CUDA kernels (on native/emu) in these units, while
                // dropping one key of 67 (weight near 1/67) moves an output by about 1e-2.
                assertClose(want, got, 4e-6, "forward on " + device);
            }
        }
    }

    // ---- bf16, inference, the generator ---------------------------------------------------------------------------

    /** bf16 operands give the fp32 result on the same (rounded) values to bf16 precision, forward and backward. */
    @Test
    void bf16OperandsFollowTheFp32Path() {
        int n = 2, h = 2, t = 9, s = 11, d = 32;
        float[] q = roundToBf16(GradCheck.uniform(n * t * h * d, 10, -1.5f, 1.5f));
        float[] kv = roundToBf16(GradCheck.uniform(n * s * 2 * h * d, 11, -1.5f, 1.5f));
        float[] r = GradCheck.uniform(n * t * h * d, 12, -1, 1);
        try (Scope scope = Scope.open()) {
            for (Device device : GradCheck.devices()) {
                Tensor q32 = Tensor.of(device, q, n, t, h, d).requiresGrad();
                Tensor kv32 = Tensor.of(device, kv, n, s, 2, h, d).requiresGrad();
                Tensor o32 = Ops.crossAttention(q32, kv32, AttentionOptions.none().causal());
                Autograd.backward(o32, Tensor.of(device, r, n, t, h, d));
                Tensor q16 = Tensor.of(device, q, n, t, h, d).requiresGrad();
                Tensor kv16 = Tensor.of(device, kv, n, s, 2, h, d).requiresGrad();
                Tensor o16 = Ops.crossAttention(Ops.toBf16(q16), Ops.toBf16(kv16), AttentionOptions.none().causal());
                assertEquals(DType.BF16, o16.dtype());
                Tensor loss = Ops.toF32(o16);
                Autograd.backward(loss, Tensor.of(device, r, n, t, h, d));
                assertBf16Close(o32.toFloatArray(), loss.toFloatArray(), "o on " + device);
                assertBf16Close(q32.grad().toFloatArray(), q16.grad().toFloatArray(), "dq on " + device);
                assertBf16Close(kv32.grad().toFloatArray(), kv16.grad().toFloatArray(), "dkv on " + device);
            }
        }
    }

    @Test
    void inferenceKeepsNoLseAndGivesTheTrainingBits() {
        try (Scope scope = Scope.open()) {
            Tensor qkv = Tensor.of(GradCheck.uniform(2 * 9 * 3 * 2 * 16, 13, -1, 1), 2, 9, 3, 2, 16).requiresGrad();
            float[] training = Ops.selfAttention(qkv, AttentionOptions.none().causal()).toFloatArray();
            int tape = Autograd.tapeSize();
            float[] inference;
            try (NoGrad off = Autograd.noGrad()) {
                inference = Ops.selfAttention(qkv, AttentionOptions.none().causal()).toFloatArray();
            }
            assertArrayEquals(training, inference);
            assertEquals(tape, Autograd.tapeSize(), "nothing recorded under noGrad");
        }
    }

    @Test
    void dropoutAdvancesTheGeneratorByOneWordPerWeight() {
        try (Scope scope = Scope.open()) {
            Generator g = new Generator(5, 100);
            Tensor q = Tensor.of(GradCheck.uniform(2 * 3 * 5 * 8, 14, -1, 1), 2, 3, 5, 8);
            Tensor kv = Tensor.of(GradCheck.uniform(2 * 3 * 7 * 8, 15, -1, 1), 2, 3, 7, 8);
            float[] first = Ops.attention(q, kv, kv, AttentionOptions.none().dropout(0.5f, g)).toFloatArray();
            assertEquals(100 + (2 * 3 * 5 * 7 + 3) / 4, g.offset(), "ceil(N H T S / 4) counters");
            float[] second = Ops.attention(q, kv, kv, AttentionOptions.none().dropout(0.5f, g)).toFloatArray();
            assertNotEquals(Arrays.toString(first), Arrays.toString(second), "a new mask from the advanced generator");
            float[] again = Ops.attention(q, kv, kv, AttentionOptions.none().dropout(0.5f, new Generator(5, 100))).toFloatArray();
            assertArrayEquals(first, again, "same generator state, same bits");
        }
    }

    @Test
    void emptyKeysGiveZerosAndZeroGradients() {
        try (Scope scope = Scope.open()) {
            Tensor q = Tensor.of(GradCheck.uniform(12, 16, -1, 1), 1, 3, 1, 4).requiresGrad();
            Tensor k = Tensor.zeros(1, 1, 0, 4).requiresGrad();
            Tensor o = Ops.attention(Ops.reshape(q, 1, 1, 3, 4), k, k, AttentionOptions.none());
            assertArrayEquals(new float[12], o.toFloatArray());
            Autograd.backward(o, Tensor.ones(1, 1, 3, 4));
            assertArrayEquals(new float[12], q.grad().toFloatArray());
        }
    }

    @Test
    void badCallsNameTheOpAndArgument() {
        try (Scope scope = Scope.open()) {
            Tensor q = Tensor.zeros(1, 2, 3, 8), k = Tensor.zeros(1, 2, 5, 8);
            String shape = assertThrows(IllegalArgumentException.class,
                    () -> Ops.attention(q, k, Tensor.zeros(1, 2, 4, 8), AttentionOptions.none())).getMessage();
            assertTrue(shape.contains("attention") && shape.contains("(1, 2, 4, 8)"), shape);
            String big = assertThrows(IllegalArgumentException.class, () -> Ops.attention(Tensor.zeros(1, 1, 2, 129),
                    Tensor.zeros(1, 1, 2, 129), Tensor.zeros(1, 1, 2, 129), AttentionOptions.none())).getMessage();
            assertTrue(big.contains("129"), big);
            String packed = assertThrows(IllegalArgumentException.class,
                    () -> Ops.selfAttention(Tensor.zeros(1, 3, 2, 2, 8), AttentionOptions.none())).getMessage();
            assertTrue(packed.contains("self_attention") && packed.contains("(N, T, 3, H, D)"), packed);
            String cross = assertThrows(IllegalArgumentException.class,
                    () -> Ops.crossAttention(Tensor.zeros(1, 3, 2, 8), Tensor.zeros(1, 5, 2, 3, 8), AttentionOptions.none())).getMessage();
            assertTrue(cross.contains("cross_attention") && cross.contains("(1, 5, 2, 3, 8)"), cross);
            String lengths = assertThrows(IllegalArgumentException.class, () -> Ops.attention(q, k, k,
                    AttentionOptions.none().keyLengths(Tensor.ofInts(Device.cpu(), new int[] {1, 2}, 2)))).getMessage();
            assertTrue(lengths.contains("keyLengths"), lengths);
            String range = assertThrows(IllegalArgumentException.class, () -> Ops.attention(q, k, k,
                    AttentionOptions.none().keyLengths(Tensor.ofInts(Device.cpu(), new int[] {6}, 1)))).getMessage();
            assertTrue(range.contains("kv_lengths[0] = 6"), range);
            String mixed = assertThrows(IllegalArgumentException.class,
                    () -> Ops.attention(q, k.to(DType.BF16), k, AttentionOptions.none())).getMessage();
            assertTrue(mixed.contains("one dtype"), mixed);
            String noGen = assertThrows(IllegalArgumentException.class,
                    () -> AttentionOptions.none().dropout(0.1f, null)).getMessage();
            assertTrue(noGen.contains("generator"), noGen);
            assertThrows(IllegalArgumentException.class, () -> AttentionOptions.none().dropout(1f, new Generator(1)));
            assertThrows(IllegalArgumentException.class, () -> AttentionOptions.none().scale(Float.POSITIVE_INFINITY));
            assertThrows(IllegalArgumentException.class, () -> AttentionOptions.none().keyLengths(Tensor.zeros(2)));
            assertThrows(IllegalArgumentException.class, () -> Ops.attention(q, k, k, null));
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------------

    static int[] lengths(String s) {
        if (s == null || s.isBlank()) return null;
        return Arrays.stream(s.trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
    }

    static double[] widen(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    static float[] roundToBf16(float[] f) {
        float[] r = new float[f.length];
        for (int i = 0; i < f.length; i++) {
            int bits = Float.floatToRawIntBits(f[i]);
            bits += 0x7fff + ((bits >>> 16) & 1);
            r[i] = Float.intBitsToFloat(bits & 0xffff0000);
        }
        return r;
    }

    /** |got - want| <= tol (rms(want) + |want|) elementwise. */
    static void assertClose(double[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what + ": length");
        double ss = 0;
        for (double w : want) ss += w * w;
        double rms = Math.sqrt(ss / Math.max(1, want.length));
        for (int i = 0; i < want.length; i++) {
            if (!(Math.abs(got[i] - want[i]) <= tol * (rms + Math.abs(want[i])))) {
                throw new AssertionError(what + ": [" + i + "] = " + got[i] + ", reference " + want[i] + " (rms " + rms + ")");
            }
        }
    }

    /** Within a few bf16 rounding steps (2^-8 relative) of the fp32 result, relative to the case's scale. */
    static void assertBf16Close(float[] want, float[] got, String what) {
        assertClose(widen(want), got, 0x1p-6, what);
    }
}

// Proves the gradient checks can fail: each family's real check cases, run with wrong analytic gradients injected
// between the backward and the comparison, must reject every fault on every differentiable input.
package dev.kiln.ops;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The faults ({@link GradCheck#STANDARD_FAULTS}): the analytic gradient times 0, -1, 0.9 and 1.1, and one element
 * moved by 10% of the gradient's scale. The cases are the gradient tests' own methods, called with their own
 * parameters, so what is proven is that the tests as written catch the faults; nothing in the ops is changed.
 */
class GradCheckSelfTest {
    /** family -> fault -> {rejected, judged}, printed after the class as the self-test matrix. */
    private static final Map<String, Map<String, int[]>> MATRIX = new ConcurrentHashMap<>();

    record Case(String family, String name, Runnable body) {
        @Override
        public String toString() {
            return family + ": " + name;
        }
    }

    static Stream<Case> cases() {
        ElementwiseGradTest ew = new ElementwiseGradTest();
        ReductionGradTest red = new ReductionGradTest();
        LossGradTest loss = new LossGradTest();
        MatMulGradTest mm = new MatMulGradTest();
        ConvGradTest conv = new ConvGradTest();
        NormGradTest norm = new NormGradTest();
        LstmGradTest lstm = new LstmGradTest();
        AttentionGradTest attn = new AttentionGradTest();
        LayerNormGradTest ln = new LayerNormGradTest();
        EmbeddingGradTest emb = new EmbeddingGradTest();
        BiasGeluGradTest bg = new BiasGeluGradTest();
        List<Case> c = new ArrayList<>();
        c.add(new Case("elementwise", "add/sub/mul/div, same shape", () -> {
            for (String op : new String[] {"add", "sub", "mul", "div"}) ew.sameShape(op);
        }));
        c.add(new Case("elementwise", "add/sub/mul/div, broadcast", () -> {
            for (String op : new String[] {"add", "sub", "mul", "div"}) ew.broadcastOverLeadingDimensions(op);
        }));
        c.add(new Case("elementwise", "activations, scale and neg at n=257", () -> ew.activations(257)));
        c.add(new Case("elementwise", "bias_add alone", () -> ew.biasAddAlone(3, 257)));
        c.add(new Case("elementwise", "dropout", ew::dropoutMatchesAnIndependentPhiloxMask));
        c.add(new Case("shapes", "flatten", ew::flattenPassesGradientsBack));
        c.add(new Case("shapes", "reshape reused three times", loss::composedGraphReshapeAndReuse));
        c.add(new Case("reductions", "mean over 257", () -> red.sumAndMean(1, 257, 1, 1, true)));
        c.add(new Case("reductions", "sum over axis 0", () -> red.sumAndMean(5, 7, 3, 0, false)));
        c.add(new Case("reductions", "mean of everything", () -> red.sumAndMean(33, 1, 7, -1, true)));
        c.add(new Case("reductions", "max over 257", () -> red.maxOverLastAxis(3, 257)));
        c.add(new Case("reductions", "softmax", () -> red.softmax(7, 33, false)));
        c.add(new Case("reductions", "log_softmax", () -> red.softmax(3, 257, true)));
        c.add(new Case("losses", "bce_with_logits n=257", () -> loss.bceWithLogits(257)));
        c.add(new Case("losses", "cross_entropy 7x10", () -> loss.crossEntropy(7, 10)));
        c.add(new Case("losses", "cross_entropy 5x257", () -> loss.crossEntropy(5, 257)));
        c.add(new Case("losses", "mse in both arguments", () -> loss.mseInBothArguments(33)));
        c.add(new Case("matmul/linear", "matmul 33x7x257 transposed", () -> mm.twoDimensional(33, 7, 257, true, true)));
        c.add(new Case("matmul/linear", "matmul 1x7x257", () -> mm.twoDimensional(1, 7, 257, false, true)));
        c.add(new Case("matmul/linear", "batched", () -> mm.batched(true, false)));
        c.add(new Case("matmul/linear", "folded leading dimensions", () -> mm.leadingDimensionsFoldIntoM(true)));
        c.add(new Case("matmul/linear", "linear", mm::linearMatchesItsDefinition));
        c.add(new Case("conv2d", "3x3 padded with bias", () -> conv.conv2d(2, 3, 7, 6, 4, 3, 3, 1, 1, 1, true)));
        c.add(new Case("conv2d", "strided, dilated", () -> conv.conv2d(1, 2, 9, 9, 3, 3, 3, 1, 2, 2, true)));
        c.add(new Case("conv2d", "Winograd shape", () -> conv.conv2d(2, 8, 6, 7, 9, 3, 3, 1, 1, 1, true)));
        c.add(new Case("pools", "max 3x3 stride 2 pad 1", () -> conv.pooling(2, 3, 7, 7, 3, 2, 1, "max")));
        c.add(new Case("pools", "avg 3x3 stride 2 pad 1", () -> conv.pooling(2, 3, 7, 7, 3, 2, 1, "avg")));
        c.add(new Case("pools", "max 2x3 stride 1x2", () -> conv.nonSquarePoolingAndPaddingNotCounted(2, 1, 7, 9, 2, 3, 1, 2, 1, 1, true, "max")));
        c.add(new Case("pools", "avg 2x3 stride 1x2, padding not counted",
                () -> conv.nonSquarePoolingAndPaddingNotCounted(2, 1, 7, 9, 2, 3, 1, 2, 1, 1, false, "avg")));
        c.add(new Case("batch norm", "training (N, C, H, W)", () -> norm.batchNormTraining(4, 3, 5, 5)));
        c.add(new Case("batch norm", "training (N, C)", () -> norm.batchNormTraining2d(33, 5)));
        c.add(new Case("batch norm", "evaluation", () -> norm.batchNormEvaluation(4, 4, 3, 5, 5, true, true)));
        c.add(new Case("lstm", "every input and parameter", () -> lstm.gradientsOfEveryInputAndParameter(2, 2, 3, 5, true)));
        c.add(new Case("lstm", "longer sequence", () -> lstm.gradientsOfEveryInputAndParameter(3, 7, 5, 7, true)));
        c.add(new Case("attention", "causal with key lengths", () -> attn.headsMajor(2, 2, 5, 5, 32, true, "3 5", 0f)));
        c.add(new Case("attention", "dropout, T != S", () -> attn.headsMajor(1, 2, 5, 6, 32, false, "", 0.3f)));
        c.add(new Case("attention", "packed self-attention", () -> attn.packedSelfAttention(2, 5, 2, 32, true, 0f)));
        c.add(new Case("attention", "cross-attention to a cache", () -> attn.crossAttentionToPackedKeysAndValues(2, 1, 6, 2, 64, "2 6", true)));
        c.add(new Case("layer norm", "(N, C) with gamma and beta", () -> ln.rowsOfAMatrix(4, 7, true, true)));
        c.add(new Case("layer norm", "(B, T, C), a row of 1030", () -> {
            ln.oneVectorAndABatchOfSequences();
            ln.rowsOfAMatrix(1, 1030, true, true);
        }));
        c.add(new Case("embedding", "repeated indices", () -> emb.indicesOfAVector(12, 4, 5)));
        c.add(new Case("embedding", "indices (2, 3), unused rows", () -> emb.indicesOfAnyShape()));
        c.add(new Case("bias gelu", "(N, C)", () -> bg.rowsOfAMatrix(5, 257)));
        c.add(new Case("bias gelu", "(B, T, C)", () -> bg.aVectorAndABatchOfSequences()));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void everyFaultIsRejected(Case c) {
        List<GradCheck.Outcome> outcomes = GradCheck.withFaults(GradCheck.STANDARD_FAULTS, c.body());
        assertFalse(outcomes.isEmpty(), c + ": no gradient was judged");
        List<String> accepted = new ArrayList<>();
        for (GradCheck.Outcome o : outcomes) {
            int[] cell = MATRIX.computeIfAbsent(c.family(), k -> new ConcurrentHashMap<>())
                    .computeIfAbsent(o.fault(), k -> new int[2]);
            synchronized (cell) {
                if (o.rejected()) cell[0]++;
                cell[1]++;
            }
            if (!o.rejected()) accepted.add(o.check() + " input " + o.input() + " fault " + o.fault() + ": " + o.detail());
        }
        for (GradCheck.Fault f : GradCheck.STANDARD_FAULTS) {
            assertTrue(outcomes.stream().anyMatch(o -> o.fault().equals(f.name())), c + ": fault " + f.name() + " never judged");
        }
        if (!accepted.isEmpty()) fail(c + ": " + accepted.size() + " wrong gradients passed:\n" + String.join("\n", accepted));
    }

    /** The old rule (2e-3 max(1, max|numeric|)) accepted a zero gradient for a mean over 257; this one does not. */
    @Test
    void aSmallGradientIsHeldToItsOwnScale() {
        double[] numeric = new double[257];
        for (int j = 0; j < numeric.length; j++) numeric[j] = (j % 2 == 0 ? 1.0 : -0.5) / 257;
        float[] right = new float[257], zero = new float[257];
        for (int j = 0; j < numeric.length; j++) right[j] = (float) numeric[j];
        assertNull(GradCheck.compare(right, numeric, GradCheck.GRAD_TOL));
        String error = GradCheck.compare(zero, numeric, GradCheck.GRAD_TOL);
        assertNotNull(error, "an all-zero gradient must fail");
        assertTrue(error.contains("finite differences"), error);
        float[] nan = right.clone();
        nan[3] = Float.NaN;
        assertNotNull(GradCheck.compare(nan, numeric, GradCheck.GRAD_TOL), "NaN must fail");
        assertEquals(0, GradCheck.scale(new double[0]));
    }

    /** Shows up as skipped, with the reason, where there is no GPU; elsewhere every check above also ran on cuda:0. */
    @Test
    void gradientChecksRunOnCudaWhereThereIsAGpu() {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.kiln.Device.cudaDeviceCount() > 0,
                "CUDA gradient checks skipped: " + dev.kiln.Device.cudaUnavailableReason());
        assertEquals(List.of(dev.kiln.Device.cpu(), dev.kiln.Device.cuda(0)), GradCheck.devices());
        List<GradCheck.Outcome> outcomes = GradCheck.withFaults(GradCheck.STANDARD_FAULTS, () -> new LossGradTest().bceWithLogits(257));
        assertTrue(outcomes.stream().anyMatch(o -> o.device().isCuda() && o.rejected()), "no check ran on cuda:0");
    }

    @AfterAll
    static void printMatrix() {
        StringBuilder b = new StringBuilder("[kiln] GradCheck self-test: rejected / judged, per family and fault\n");
        List<String> faults = GradCheck.STANDARD_FAULTS.stream().map(GradCheck.Fault::name).toList();
        b.append(String.format("  %-14s", "family"));
        for (String f : faults) b.append(String.format(" %18s", f));
        b.append('\n');
        for (Map.Entry<String, Map<String, int[]>> e : new TreeMap<>(MATRIX).entrySet()) {
            b.append(String.format("  %-14s", e.getKey()));
            for (String f : faults) {
                int[] cell = e.getValue().getOrDefault(f, new int[2]);
                b.append(String.format(" %18s", cell[0] + "/" + cell[1]));
            }
            b.append('\n');
        }
        System.out.print(b);
    }
}

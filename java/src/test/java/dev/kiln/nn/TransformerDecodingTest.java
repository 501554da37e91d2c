package dev.kiln.nn;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.models.Transformer;
import dev.kiln.ops.Autograd;
import dev.kiln.ops.NoGrad;
import dev.kiln.ops.Ops;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Incremental decoding through the key/value caches gives what the full causal forward gives, position by position,
 * for both configurations (an untrained model: every weight matters, nothing is saturated); the state dict names
 * follow the module tree; bad calls are refused with messages naming the problem.
 */
class TransformerDecodingTest {
    private static final Device CPU = Device.cpu();

    /** A small decoder-only model: d_model 32, 2 heads (head dim 16), 2 layers, learned positions, context 12. */
    private static Transformer smallLm() {
        return new Transformer(new Transformer.Config(11, 32, 2, 64, 0, 2, 12, true, 0f), CPU, new Generator(5));
    }

    @Test
    void cachedStepsMatchTheFullCausalForward() {
        int[] tokens = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3};
        int t = tokens.length;
        try (Transformer lm = smallLm(); Scope s = Scope.open(); NoGrad off = Autograd.noGrad()) {
            lm.eval();
            float[] full = lm.logits(Tensor.ofInts(CPU, tokens, 1, t)).toFloatArray();  // (1, t, 11)
            try (Transformer.Incremental d = lm.startIncremental(1)) {
                for (int p = 0; p < t; p++) {
                    float[] step = d.feed(new int[] {tokens[p]}).toFloatArray();
                    for (int v = 0; v < 11; v++) {
                        assertEquals(full[p * 11 + v], step[v], 2e-5f * (1 + Math.abs(full[p * 11 + v])),
                                "position " + p + ", token " + v);
                    }
                }
                assertEquals(t, d.position());
            }
        }
    }

    @Test
    void greedyDecodingMatchesRecomputingEveryPrefix() {
        int vocab = 13, n = 3;
        Transformer.Config config = new Transformer.Config(vocab, 32, 4, 64, 2, 2, 17, false, 0f);
        int[] source = {3, 4, 5, 6, 7, 8, 9, 10, 0, 0,
                        12, 11, 10, 9, 8, 7, 6, 5, 4, 3,
                        5, 5, 6, 6, 7, 0, 0, 0, 0, 0};
        int[] lengths = {8, 10, 5};
        try (Transformer model = new Transformer(config, CPU, new Generator(9)); Scope s = Scope.open();
             NoGrad off = Autograd.noGrad()) {
            model.eval();
            Tensor src = Tensor.ofInts(CPU, source, n, 10), len = Tensor.ofInts(CPU, lengths, n);
            int steps = 6;
            int[][] cached = model.greedy(src, len, 1, -1, steps);  // eos -1: never stops early
            // Reference: at every step run the whole teacher-forced decoder on the prefix decoded so far.
            int[][] prefix = new int[n][steps + 1];
            for (int i = 0; i < n; i++) prefix[i][0] = 1;
            for (int step = 0; step < steps; step++) {
                int[] flat = new int[n * (step + 1)];
                for (int i = 0; i < n; i++) System.arraycopy(prefix[i], 0, flat, i * (step + 1), step + 1);
                Tensor logits = model.logits(src, len, Tensor.ofInts(CPU, flat, n, step + 1));
                int[] next = Ops.argmax(Ops.narrow(logits, 1, step, 1).reshape(n, vocab)).toIntArray();
                for (int i = 0; i < n; i++) prefix[i][step + 1] = next[i];
            }
            for (int i = 0; i < n; i++) {
                int[] want = java.util.Arrays.copyOfRange(prefix[i], 1, steps + 1);
                assertArrayEquals(want, cached[i], "row " + i);
            }
        }
    }

    @Test
    void paddedSourcePositionsDoNotMatter() {
        // Changing the tokens past a sequence's length changes nothing: the key lengths mask them everywhere.
        Transformer.Config config = new Transformer.Config(13, 32, 4, 64, 1, 1, 17, false, 0f);
        try (Transformer model = new Transformer(config, CPU, new Generator(3)); Scope s = Scope.open();
             NoGrad off = Autograd.noGrad()) {
            Tensor len = Tensor.ofInts(CPU, new int[] {5}, 1);
            Tensor tgt = Tensor.ofInts(CPU, new int[] {1, 4, 4}, 1, 3);
            float[] a = model.logits(Tensor.ofInts(CPU, new int[] {3, 4, 5, 6, 7, 0, 0, 0}, 1, 8), len, tgt).toFloatArray();
            float[] b = model.logits(Tensor.ofInts(CPU, new int[] {3, 4, 5, 6, 7, 9, 12, 2}, 1, 8), len, tgt).toFloatArray();
            assertArrayEquals(a, b, 0f);
        }
    }

    @Test
    void stateDictFollowsTheModuleTree() {
        try (Transformer lm = smallLm()) {
            Map<String, Tensor> state = lm.stateDict();
            assertTrue(state.containsKey("embed.weight"));
            assertTrue(state.containsKey("pos.weight"));
            assertTrue(state.containsKey("transformer.decoder.1.self_attn.qkv.weight"), state.keySet().toString());
            assertTrue(state.containsKey("transformer.decoder.0.ff.linear1.bias"));
            assertTrue(state.containsKey("transformer.decoder_norm.weight"));
            assertArrayEquals(new int[] {96, 32}, state.get("transformer.decoder.0.self_attn.qkv.weight").shape());
            assertEquals(11 * 32 + 12 * 32 + 2 * (2 * 64 + 32 * 96 + 96 + 32 * 32 + 32 + 32 * 64 + 64 + 64 * 32 + 32)
                    + 2 * 32 + 32 * 11 + 11, lm.parameterCount());
        }
    }

    @Test
    void refusesWhatItCannotDo() {
        try (Transformer lm = smallLm(); Scope s = Scope.open()) {
            IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                    () -> lm.logits(Tensor.ofInts(CPU, new int[13], 1, 13)));
            assertTrue(tooLong.getMessage().contains("maximum length 12"), tooLong.getMessage());
            assertThrows(IllegalStateException.class, () -> lm.logits(Tensor.ofInts(CPU, new int[2], 1, 2),
                    null, Tensor.ofInts(CPU, new int[2], 1, 2)));
            assertThrows(IllegalArgumentException.class, () -> new MultiHeadAttention(MultiHeadAttention.Kind.SELF, 30, 4, 0f, CPU, new Generator(1)));
            try (KvCache cache = new KvCache(CPU, 1, 2, 2, 16)) {
                cache.append(Tensor.zeros(1, 2, 2, 2, 16));
                IllegalStateException full = assertThrows(IllegalStateException.class, () -> cache.append(Tensor.zeros(1, 1, 2, 2, 16)));
                assertTrue(full.getMessage().contains("capacity 2"), full.getMessage());
            }
        }
    }

    /** A refused start of a decode allocates nothing: the argument checks come before the key/value caches. */
    @Test
    void aRefusedDecodeLeavesNoCacheBehind() {
        try (dev.kiln.nn.Transformer decoderOnly = new dev.kiln.nn.Transformer(16, 2, 32, 0, 2, 0f, CPU, new Generator(1));
             dev.kiln.nn.Transformer seq2seq = new dev.kiln.nn.Transformer(16, 2, 32, 1, 1, 0f, CPU, new Generator(2));
             Scope s = Scope.open()) {
            Tensor memory = Tensor.zeros(CPU, 2, 5, 16);
            // Allocations made, not bytes in use: a cleaner thread may free another test's garbage meanwhile.
            long before = CPU.memoryStats().totalAllocations();
            assertThrows(IllegalArgumentException.class, () -> decoderOnly.startDecoding(2, 64, memory, null));
            assertThrows(IllegalArgumentException.class, () -> seq2seq.startDecoding(2, 64, null, null));
            assertEquals(before, CPU.memoryStats().totalAllocations());
        }
    }
}

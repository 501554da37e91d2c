package dev.kiln.internal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The FLOP counts the profiler and the op suite report: only the products an op computes. */
class FlopCountTest {
    private static AttentionDesc attention(long qLen, long kvLen, boolean causal) {
        return new AttentionDesc(2, 3, qLen, kvLen, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1f, causal, 0f, 0, 0);
    }

    /** Causal attention counts the visible query-key pairs (bottom-right aligned), by brute force for every shape. */
    @Test
    void causalAttentionCountsVisiblePairs() {
        for (long q = 0; q <= 9; q++) {
            for (long kv = 0; kv <= 9; kv++) {
                long visible = 0;
                for (long t = 0; t < q; t++)
                    for (long s = 0; s < kv; s++) if (s <= t + (kv - q)) visible++;
                AttentionDesc d = attention(q, kv, true);
                assertEquals(visible, d.visiblePairs(), 0.0, "q " + q + " kv " + kv);
                assertEquals(2L * 2 * 3 * visible * 8, d.matmulFlops());
                assertEquals((double) q * kv, attention(q, kv, false).visiblePairs(), 0.0);
            }
        }
        assertEquals(128.0 * 129 / 2, attention(128, 128, true).visiblePairs(), 0.0);  // the lower triangle
    }

    /** The LSTM backward counts dx and the recurrence into dh0 only when they are wanted. */
    @Test
    void lstmBackwardCountsWhatItComputes() {
        LstmDesc d = new LstmDesc(4, 5, 3, 2);
        long gates = 2L * 4 * 4 * 2;  // 2 n 4h, per unit of depth and step
        assertEquals(2 * d.forwardFlops(), d.backwardFlops(true, true));
        // dW_ih, dW_hh over 5 steps; dh through 4 of them; no dx.
        assertEquals(gates * (5 * (3 + 2) + 4 * 2), d.backwardFlops(false, false));
        assertEquals(gates * (5 * (3 + 2) + 5 * 2 + 5 * 3), d.backwardFlops(true, true));
    }
}

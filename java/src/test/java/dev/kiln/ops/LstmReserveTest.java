package dev.kiln.ops;

import dev.kiln.internal.LstmDesc;
import dev.kiln.internal.LstmNative;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The LSTM reserve is sized in long from the native byte count. Before, {@code (int) ((bytes + 3) / 4)} wrapped once
 * 6 n t h passed 2^31 and allocated a small buffer that the forward then overran.
 */
class LstmReserveTest {
    @Test
    void reserveBeyondTwoToThe31FloatsKeepsItsSize() {
        long n = 64, t = 4096, h = 2048;  // 6 n t h = 3 * 2^30 floats, 12 GiB: sized here, never allocated
        long bytes = LstmNative.reserveSize(new LstmDesc(n, t, 28, h));
        assertEquals(24 * n * t * h, bytes);
        long floats = bytes / 4;
        assertTrue(floats > Integer.MAX_VALUE);
        assertEquals(3L << 30, floats);
        int[] shape = LstmOps.reserveShape(bytes);
        long held = 1;
        for (int d : shape) held *= d;
        assertTrue(held >= floats && held - floats < LstmOps.RESERVE_ROW, "shape holds " + held + " for " + floats);
        assertArrayEquals(new int[] {3072, LstmOps.RESERVE_ROW}, shape);
        // What used to be allocated: the truncated count, far smaller than what the forward writes.
        assertTrue((int) ((bytes + 3) / 4) < floats);
    }

    @Test
    void smallReservesAreOneDimension() {
        assertArrayEquals(new int[] {6 * 2 * 3 * 5}, LstmOps.reserveShape(LstmNative.reserveSize(new LstmDesc(2, 3, 4, 5))));
        assertArrayEquals(new int[] {1}, LstmOps.reserveShape(3));
        assertArrayEquals(new int[] {0}, LstmOps.reserveShape(0));
    }
}

package dev.kiln;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RandomTest {
    /** An independent Philox4x32-10 in Java, checked against the published known answers below. */
    static int[] philox(int[] ctr, int k0, int k1) {
        int c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                k0 += 0x9E3779B9;
                k1 += 0xBB67AE85;
            }
            long p0 = (0xD2511F53L) * (c0 & 0xffffffffL);
            long p1 = (0xCD9E8D57L) * (c2 & 0xffffffffL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0, n1 = (int) p1, n2 = (int) (p0 >>> 32) ^ c3 ^ k1, n3 = (int) p0;
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        }
        return new int[] {c0, c1, c2, c3};
    }

    @Test
    void philoxKnownAnswers() {
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, philox(new int[] {0, 0, 0, 0}, 0, 0));
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                philox(new int[] {-1, -1, -1, -1}, -1, -1));
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                philox(new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, 0xa4093822, 0x299f31d0));
    }

    @Test
    void uniformStreamIsExactlyPhiloxThroughJni() {
        long seed = 0x1234_5678_9abcL;
        Generator g = new Generator(seed, 99);
        try (Tensor t = Tensor.rand(g, Device.cpu(), 1001)) {
            float[] got = t.toFloatArray();
            for (int i = 0; i < got.length; i++) {
                long counter = 99 + i / 4;
                int[] block = philox(new int[] {(int) counter, (int) (counter >>> 32), 0, 0}, (int) seed, (int) (seed >>> 32));
                float expected = (block[i % 4] >>> 8) * 0x1p-24f;
                assertEquals(expected, got[i], 0f, "element " + i);
            }
        }
        assertEquals(99 + (1001 + 3) / 4, g.offset());
    }

    @Test
    void randnHasUnitMomentsOverAMillionDraws() {
        try (Tensor t = Tensor.randn(new Generator(7), Device.cpu(), 1 << 20)) {
            float[] x = t.toFloatArray();
            double mean = 0, var = 0;
            for (float v : x) mean += v;
            mean /= x.length;
            for (float v : x) var += (v - mean) * (v - mean);
            var /= x.length;
            // standard errors at n = 2^20: 0.001 for the mean, 0.0014 for the variance
            assertEquals(0.0, mean, 0.005, "mean");
            assertEquals(1.0, var, 0.007, "variance");
        }
        try (Tensor u = Tensor.uniform(new Generator(8), Device.cpu(), -2f, 3f, 100_000)) {
            for (float v : u.toFloatArray()) assertTrue(v >= -2f && v < 3f, "out of range: " + v);
        }
    }

    @Test
    void sameSeedSameTensorsAndStreamsContinue() {
        try (Scope s = Scope.open()) {
            float[] a = Tensor.randn(new Generator(5), Device.cpu(), 33).toFloatArray();
            float[] b = Tensor.randn(new Generator(5), Device.cpu(), 33).toFloatArray();
            assertArrayEquals(a, b);
            Generator g = new Generator(5);
            Tensor.randn(g, Device.cpu(), 12);  // 3 blocks
            float[] tail = Tensor.randn(g, Device.cpu(), 21).toFloatArray();
            float[] whole = new float[21];
            System.arraycopy(a, 12, whole, 0, 21);
            assertArrayEquals(whole, tail);
        }
    }

    @Test
    void cudaStreamsAreBitIdenticalToTheCpu() {
        Assumptions.assumeTrue(Device.cudaAvailable(), () -> "CUDA SKIPPED: " + Device.cudaUnavailableReason());
        try (Scope s = Scope.open()) {
            for (Device d : Devices.all()) {
                assertArrayEquals(Tensor.randn(new Generator(11, 3), Device.cpu(), 100_003).toFloatArray(),
                        Tensor.randn(new Generator(11, 3), d, 100_003).toFloatArray());
                assertArrayEquals(Tensor.rand(new Generator(12), Device.cpu(), 4097).toFloatArray(),
                        Tensor.rand(new Generator(12), d, 4097).toFloatArray());
            }
        }
    }
}

// Products with an empty inner dimension (K = 0): the sum over nothing is 0, never stale memory or a division by K.
package dev.kiln.ops;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.nn.Init;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ZeroInnerDimensionTest {
    /** Leaves NaN in freed blocks of {@code n} floats, so an output the kernel never wrote would show as NaN. */
    private static void poisonCache(int n) {
        for (int i = 0; i < 4; i++) {
            try (Tensor t = Scope.detached(() -> Tensor.full(Device.cpu(), Float.NaN, n))) {
                assertTrue(Float.isNaN(t.toFloatArray()[0]));
            }
        }
    }

    @ParameterizedTest(name = "(3, 0) x (0, 4) transA={0} transB={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void productOverAnEmptyInnerDimensionIsZero(boolean ta, boolean tb) {
        poisonCache(12);
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.zeros(ta ? new int[] {0, 3} : new int[] {3, 0}).requiresGrad();
            Tensor b = Tensor.zeros(tb ? new int[] {4, 0} : new int[] {0, 4}).requiresGrad();
            Tensor c = Ops.matmul(a, b, ta, tb);
            assertArrayEquals(new int[] {3, 4}, c.shape());
            assertArrayEquals(new float[12], c.toFloatArray(), 0f);
            Ops.sum(c).backward();
            assertArrayEquals(a.shape(), a.grad().shape());
            assertArrayEquals(b.shape(), b.grad().shape());
            assertEquals(0, Autograd.tapeSize());
        }
    }

    @Test
    void batchedAndFoldedProductsOverAnEmptyInnerDimension() {
        poisonCache(24);
        try (Scope s = Scope.open()) {
            assertArrayEquals(new float[24], Ops.matmul(Tensor.zeros(2, 3, 0), Tensor.zeros(2, 0, 4)).toFloatArray(), 0f);
            assertArrayEquals(new float[24], Ops.matmul(Tensor.zeros(2, 3, 0), Tensor.zeros(0, 4)).toFloatArray(), 0f);
            // The mean of an all-zero product divides by its 12 elements, not by K.
            assertEquals(0f, Ops.mean(Ops.matmul(Tensor.zeros(3, 0), Tensor.zeros(0, 4))).item());
        }
    }

    @Test
    void linearWithNoInputFeaturesIsItsBias() {
        poisonCache(10);
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.zeros(5, 0);
            Tensor w = Tensor.zeros(2, 0).requiresGrad(), b = Tensor.of(new float[] {1.5f, -2f}, 2).requiresGrad();
            Tensor y = Ops.linear(x, w, b);
            assertArrayEquals(new float[] {1.5f, -2f, 1.5f, -2f, 1.5f, -2f, 1.5f, -2f, 1.5f, -2f}, y.toFloatArray(), 0f);
            Ops.sum(y).backward();
            assertArrayEquals(new float[] {5, 5}, b.grad().toFloatArray(), 0f);
        }
    }

    @Test
    void initializersRefuseAZeroFanInsteadOfDividingByIt() {
        try (Tensor w = Tensor.zeros(3, 0)) {
            Generator g = new Generator(1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Init.kaimingUniform(w, 0, 1f, g));
            assertTrue(e.getMessage().contains("kaimingUniform") && e.getMessage().contains("fanIn") && e.getMessage().contains("0"),
                    e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Init.kaimingNormal(w, 0, 1f, g));
            assertThrows(IllegalArgumentException.class, () -> Init.xavierUniform(w, 0, 0, 1f, g));
            assertThrows(IllegalArgumentException.class, () -> Init.xavierNormal(w, 0, 0, 1f, g));
            assertEquals(0, g.offset(), "nothing drawn");
        }
        try (Tensor w = Tensor.empty(Device.cpu(), 64, 16)) {
            Init.kaimingUniform(w, 16, Init.reluGain(), new Generator(2));
            float bound = Init.reluGain() * (float) Math.sqrt(3.0 / 16);
            for (float v : w.toFloatArray()) assertTrue(Float.isFinite(v) && Math.abs(v) <= bound, "weight " + v);
        }
    }
}

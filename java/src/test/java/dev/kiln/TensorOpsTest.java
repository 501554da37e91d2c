package dev.kiln;

import dev.kiln.ops.Autograd;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tensor's fluent methods are the ops of Ops: same results, recorded on the tape. */
class TensorOpsTest {
    @Test
    void fluentChainComputesAndDifferentiates() {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requiresGrad();
            Tensor b = Tensor.of(new float[] {1, 0, 0, 1}, 2, 2);
            Tensor y = a.matmul(b).add(b).sub(b).mul(b).div(Tensor.full(Device.cpu(), 2f, 2, 2)).neg();
            assertArrayEquals(new float[] {-0.5f, 0, 0, -2}, y.toFloatArray(), 0f);  // -0 == 0 here
            y.sum().backward();  // d/da sum(-(a b) * b / 2) with b = I: -I / 2 on the diagonal
            assertArrayEquals(new float[] {-0.5f, 0, 0, -0.5f}, a.grad().toFloatArray(), 0f);
            assertEquals(0, Autograd.tapeSize());

            Tensor x = Tensor.of(new float[] {0, 1, -1, 2}, 2, 2);
            assertArrayEquals(new float[] {0, 1, 0, 2}, x.relu().toFloatArray());
            assertEquals(0.5f, x.sigmoid().toFloatArray()[0]);
            assertEquals((float) Math.tanh(1), x.tanh().toFloatArray()[1], 1e-7f);
            assertEquals(0.5f, x.mean().item());
            assertArrayEquals(new float[] {-1, 3}, x.sum(0).toFloatArray());
            assertArrayEquals(new float[] {0.5f, 0.5f}, x.mean(1).toFloatArray());
            float[] p = x.softmax().toFloatArray();
            assertEquals(1f, p[0] + p[1], 1e-6f);
            float[] lp = x.logSoftmax().toFloatArray();
            assertEquals(Math.log(p[0]), lp[0], 1e-6f);
            assertArrayEquals(new int[] {2, 2}, x.flatten().shape());
        }
    }

    @Test
    void aViewWhoseSizeProductOverflowsIsRefused() {
        try (Tensor t = Tensor.zeros(4, 6); Tensor empty = Tensor.zeros(0, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> t.view(1 << 30, 1 << 30, 1 << 30, 16));
            assertTrue(e.getMessage().contains("more than 24"), e.getMessage());
            // 2^30 * 2^30 * 2^30 * 16 wraps to 0 in a long: it must not pass for the 0 elements of `empty`
            e = assertThrows(IllegalArgumentException.class, () -> empty.view(1 << 30, 1 << 30, 1 << 30, 16));
            assertTrue(e.getMessage().contains("more than 0"), e.getMessage());
            // a zero dimension anywhere makes the product 0, which is right
            assertEquals(0, empty.view(1 << 30, 1 << 30, 1 << 30, 16, 0).numel());
        }
    }
}

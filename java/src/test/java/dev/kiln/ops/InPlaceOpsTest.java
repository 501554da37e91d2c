package dev.kiln.ops;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The in-place ops of Ops: what they write, that they record nothing, and that they check their operands. */
class InPlaceOpsTest {
    static List<Device> devices() {
        return Device.cudaAvailable() ? List.of(Device.cpu(), Device.cuda(0)) : List.of(Device.cpu());
    }

    @ParameterizedTest
    @MethodSource("devices")
    void fillCopyAxpyScale(Device device) {
        try (Scope s = Scope.open()) {
            Tensor y = Tensor.of(device, new float[] {1, 2, 3}, 3).requiresGrad();
            Tensor x = Tensor.of(device, new float[] {10, 20, 30}, 3);
            assertSame(y, Ops.axpy_(0.5f, x, y));
            assertArrayEquals(new float[] {6, 12, 18}, y.toFloatArray());
            Ops.scale_(y, -1f);
            assertArrayEquals(new float[] {-6, -12, -18}, y.toFloatArray());
            Ops.copy_(y, x);
            assertArrayEquals(new float[] {10, 20, 30}, y.toFloatArray());
            Ops.fill_(y, 2.5f);
            assertArrayEquals(new float[] {2.5f, 2.5f, 2.5f}, y.toFloatArray());
            assertEquals(0, Autograd.tapeSize());
            Tensor onCpu = Tensor.zeros(3);
            Ops.copy_(onCpu, x);
            assertArrayEquals(new float[] {10, 20, 30}, onCpu.toFloatArray());
        }
    }

    @Test
    void drawsMatchTheFactoriesBitForBit() {
        try (Scope s = Scope.open()) {
            Tensor u = Ops.uniform_(Tensor.empty(Device.cpu(), 9), new Generator(5), -1f, 1f);
            assertArrayEquals(Tensor.uniform(new Generator(5), Device.cpu(), -1f, 1f, 9).toFloatArray(), u.toFloatArray());
            Tensor n = Ops.normal_(Tensor.empty(Device.cpu(), 9), new Generator(6), 0f, 2f);
            assertArrayEquals(Tensor.normal(new Generator(6), Device.cpu(), 0f, 2f, 9).toFloatArray(), n.toFloatArray());
        }
    }

    @Test
    void optimizerStepsMatchTheirFormulas() {
        try (Scope s = Scope.open()) {
            Tensor p = Tensor.of(new float[] {1, -1}, 2), g = Tensor.of(new float[] {0.5f, 2}, 2);
            Ops.sgdStep_(p, g, null, 0.1f, 0f, 0f, false);
            assertArrayEquals(new float[] {0.95f, -1.2f}, p.toFloatArray(), 1e-7f);
            Tensor m = Tensor.zeros(2), v = Tensor.zeros(2);
            Ops.adamStep_(p, g, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0f, false, 0.1f, 0.001f);
            // first Adam step: m / bc1 = g, v / bc2 = g^2, so param -= lr * sign(g)
            assertArrayEquals(new float[] {0.85f, -1.3f}, p.toFloatArray(), 1e-6f);
            assertThrows(IllegalArgumentException.class, () -> Ops.sgdStep_(p, g, null, 0.1f, 0.9f, 0f, false));
        }
    }

    @Test
    void sumSquaresOfSeveralTensorsInOneRead() {
        try (Scope s = Scope.open()) {
            Tensor sums = Ops.sumSquares(List.of(Tensor.of(new float[] {3, 4}, 2), Tensor.of(new float[] {1}, 1)));
            assertArrayEquals(new float[] {25, 1}, sums.toFloatArray());
        }
    }

    @Test
    void operandsAreChecked() {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.zeros(3), b = Tensor.zeros(4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.axpy_(1f, a, b));
            assertTrue(e.getMessage().contains("axpy_"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Ops.copy_(a, b));
            Tensor labels = Tensor.ofInts(Device.cpu(), new int[] {1, 2, 3});
            assertThrows(IllegalArgumentException.class, () -> Ops.fill_(labels, 1f));
            a.close();
            assertThrows(IllegalStateException.class, () -> Ops.fill_(a, 1f));
        }
    }
}

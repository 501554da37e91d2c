package dev.kiln.ops;

import dev.kiln.Device;
import dev.kiln.MemoryStats;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AutogradTest {
    @Test
    void gradientsAccumulateAcrossBackwardsUntilZeroed() throws Exception {
        try (Tensor w = Tensor.of(new float[] {1, -2, 3}, 3).requiresGrad()) {
            for (int i = 0; i < 2; i++) {
                try (Scope s = Scope.open()) {
                    Ops.sum(Ops.mul(w, w)).backward();  // d/dw sum(w^2) = 2w
                }
            }
            assertArrayEquals(new float[] {4, -8, 12}, w.grad().toFloatArray());
            w.zeroGrad();
            assertArrayEquals(new float[] {0, 0, 0}, w.grad().toFloatArray());
        }
    }

    /** zeroGrad is lazy (the next gradient overwrites the buffer); every way of reading it must see the same values. */
    @Test
    void zeroGradThenBackwardOverwritesAndAccumulatesAfter() throws Exception {
        try (Tensor w = Tensor.of(new float[] {1, -2, 3}, 3).requiresGrad()) {
            try (Scope s = Scope.open()) {
                Ops.sum(Ops.mul(w, w)).backward();
            }
            Tensor buffer = w.grad();
            w.zeroGrad();  // not read: the next backward writes over the stale 2w
            try (Scope s = Scope.open()) {
                Ops.sum(Ops.scale(w, 5f)).backward();  // d/dw = 5
            }
            assertArrayEquals(new float[] {5, 5, 5}, w.grad().toFloatArray());
            assertSame(buffer, w.grad(), "the buffer is kept: memory stays flat across steps");
            try (Scope s = Scope.open()) {
                Ops.sum(Ops.mul(w, w)).backward();  // and accumulates after that: 5 + 2w
            }
            assertArrayEquals(new float[] {7, 1, 11}, w.grad().toFloatArray());
            // zeroGrad twice, one backward that never reaches w: still zeros when read
            try (Tensor other = Tensor.ones(3).requiresGrad()) {
                w.zeroGrad();
                w.zeroGrad();
                try (Scope s = Scope.open()) {
                    Ops.sum(other).backward();
                }
                assertArrayEquals(new float[] {0, 0, 0}, w.grad().toFloatArray());
            }
        }
    }

    @Test
    void noGradRecordsNothing() throws Exception {
        try (Scope s = Scope.open(); Tensor w = Tensor.ones(2).requiresGrad()) {
            try (AutoCloseable off = Autograd.noGrad()) {
                Tensor y = Ops.sum(Ops.relu(w));
                assertEquals(0, Autograd.tapeSize());
                IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
                assertTrue(e.getMessage().contains("does not depend"), e.getMessage());
            }
            assertTrue(Autograd.isGradEnabled());
            assertNull(w.grad());
        }
    }

    @Test
    void backwardNeedsAScalar() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensor.ones(3).requiresGrad();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.relu(w).backward());
            assertTrue(e.getMessage().contains("one-element"), e.getMessage());
        }
    }

    @Test
    void stepsLeaveNeitherTapeNorMemoryBehind() {
        try (Tensor w = Tensor.ones(16, 8).requiresGrad(); Tensor x = Tensor.ones(4, 8)) {
            // First step creates the persistent gradient buffer; measure after it.
            for (int step = 0; step < 50; step++) {
                MemoryStats before = Device.cpu().memoryStats();
                try (Scope s = Scope.open()) {
                    Tensor loss = Ops.mean(Ops.tanh(Ops.linear(x, w, null)));
                    if (step % 2 == 0) loss.backward();  // odd steps: forward only, as in evaluation without noGrad
                }
                assertEquals(0, Autograd.tapeSize(), "tape after step " + step);
                if (step > 0) assertEquals(before.liveAllocations(), Device.cpu().memoryStats().liveAllocations(), "step " + step);
            }
        }
    }
}

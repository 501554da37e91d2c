package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.optim.Sgd;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Backward refuses a graph it can no longer trust instead of returning wrong gradients in silence: a graph an earlier
 * backward released or a closed Scope dropped, and an op whose operands were written in place after it recorded them.
 * And gradients flow where they should: through a bf16 tensor used twice, and through a copy to a device.
 */
class GraphIntegrityTest {
    @Test
    void aSecondBackwardThroughASharedGraphFailsAndOneBackwardOfTheSumIsRight() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensor.of(new float[] {2f}, 1).requiresGrad();
            Tensor h = w.mul(w);
            Tensor l1 = h.sum(), l2 = h.mul(h).sum();
            l1.backward();
            assertEquals(4f, w.grad().item());  // d(w^2)/dw
            IllegalStateException e = assertThrows(IllegalStateException.class, l2::backward);
            assertTrue(e.getMessage().contains("'mul'") && e.getMessage().contains("released by an earlier backward()"),
                    e.getMessage());
            assertEquals(4f, w.grad().item(), "the refused backward added nothing");
        }
        try (Scope s = Scope.open()) {  // what the first attempt meant: d(w^2 + w^4)/dw = 2w + 4w^3 = 36
            Tensor w = Tensor.of(new float[] {2f}, 1).requiresGrad();
            Tensor h = w.mul(w);
            h.sum().add(h.mul(h).sum()).backward();
            assertEquals(36f, w.grad().item());
        }
    }

    @Test
    void aRootWhoseGraphIsGoneAndAnOutputMadeALeafAreRefusedByName() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensor.of(new float[] {2f}, 1).requiresGrad();
            Tensor loss = w.mul(w).sum();
            loss.backward();
            IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
            assertTrue(e.getMessage().contains("released by an earlier backward()"), e.getMessage());
            Tensor h = w.mul(w);
            e = assertThrows(IllegalStateException.class, () -> h.requiresGrad(true));
            assertTrue(e.getMessage().contains("detach().requiresGrad()"), e.getMessage());
            Tensor leaf = h.detach().requiresGrad();  // a new leaf with h's values
            leaf.mul(leaf).sum().backward();
            assertEquals(8f, leaf.grad().item());
        }
    }

    @Test
    void aTensorKeptOutOfAClosedScopeCarriesNoGraphAndBackwardSaysSo() {
        try (Scope outer = Scope.open()) {
            Tensor w = Tensor.of(new float[] {3f}, 1).requiresGrad();
            Tensor v = Tensor.of(new float[] {5f}, 1).requiresGrad();
            Tensor h;
            try (Scope inner = Scope.open()) {
                h = inner.keep(w.mul(w));
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> h.mul(v).sum().backward());
            assertTrue(e.getMessage().contains("dropped when the Scope"), e.getMessage());
            assertNull(w.grad());
            // Cutting the graph on purpose is detach(): v gets its gradient (h = 9), w none.
            h.detach().mul(v).sum().backward();
            assertEquals(9f, v.grad().item());
            assertNull(w.grad());
        }
    }

    @Test
    void anOperandWrittenInPlaceAfterTheForwardFailsTheBackward() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensor.of(new float[] {1f}, 1, 1).requiresGrad();
            Tensor x = Tensor.of(new float[] {3f}, 1, 1).requiresGrad();
            Tensor loss = x.matmul(w).sum();
            Ops.fill_(w, 5f);  // d loss / dx is the w of the forward, 1; the backward would read 5
            IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
            assertTrue(e.getMessage().contains("'matmul'") && e.getMessage().contains("written in place"), e.getMessage());
            assertNull(x.grad());
        }
        try (Scope s = Scope.open()) {  // the same through an optimizer step, and through copyFrom on a plain input
            Tensor w = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad();
            Tensor data = Tensor.of(new float[] {3f, 4f}, 2);
            Tensor first = w.mul(data).sum();
            first.backward();
            Tensor second = w.mul(data).sum();
            new Sgd(List.of(w), 0.1f).step();
            assertThrows(IllegalStateException.class, second::backward);
            Tensor third = w.mul(data).sum();
            data.copyFrom(new float[] {7f, 8f}, 0);
            assertThrows(IllegalStateException.class, third::backward);
        }
    }

    @Test
    void aCopyRefusedBeforeItWritesIsNotAnInPlaceWrite() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad();
            Tensor x = Tensor.of(new float[] {3f, 4f}, 2);
            Tensor loss = w.mul(x).sum();
            assertThrows(IllegalArgumentException.class, () -> x.copyFrom(new float[1], 0));  // too short
            assertThrows(IllegalArgumentException.class, () -> x.copyFrom(new float[4], 0, 1, 2));  // past the end
            assertThrows(IllegalArgumentException.class, () -> x.copyFrom(new int[2], 0, 0, 2));  // not i32
            loss.backward();
            assertArrayEquals(new float[] {3f, 4f}, w.grad().toFloatArray(), 0f);
            Tensor again = w.mul(x).sum();
            x.copyFrom(new float[] {5f, 6f}, 0);  // a copy that writes still counts
            assertThrows(IllegalStateException.class, again::backward);
        }
    }

    @Test
    void writesBeforeTheForwardAndIntoCopiesAreFine() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensor.of(new float[] {1f}, 1).requiresGrad();
            Tensor x = Tensor.of(new float[] {0f}, 1);
            Ops.fill_(x, 3f);                  // before the op records x
            Tensor loss = w.mul(x).sum();
            Tensor scratch = x.copy();
            Ops.fill_(scratch, 100f);          // a copy's memory is its own
            loss.backward();
            assertEquals(3f, w.grad().item());
        }
    }

    /** Gradients of a bf16 tensor used twice are summed in f32 (an f32-only add refused them before). */
    @Test
    void aBf16TensorUsedTwiceGetsBothGradients() {
        try (Scope s = Scope.open()) {
            float[] values = {0.5f, -1.25f, 2f, 3.5f};
            Tensor x = Tensor.of(values, 4).requiresGrad();
            Tensor xb = x.to(DType.BF16);
            Tensor a = Ops.toF32(xb), b = Ops.toF32(xb);
            a.sum().add(b.mul(b).sum()).backward();  // d/dx (x + x^2) = 1 + 2x; these values are exact in bf16
            float[] want = new float[values.length];
            for (int i = 0; i < values.length; i++) want[i] = 1f + 2f * values[i];
            assertArrayEquals(want, x.grad().toFloatArray());
        }
    }

    /**
     * Outside any Scope (inference that forgot noGrad) a graph goes with its outputs: the tape holds nodes weakly, so
     * neither the tape nor native memory grows. It held them strongly before, with every intermediate they reach.
     */
    @Test
    void graphsRecordedOutsideAnyScopeGoWithTheirOutputs() throws InterruptedException {
        try (Tensor w = Tensor.ones(256, 256).requiresGrad(); Tensor x = Tensor.ones(64, 256)) {
            settle(0, Long.MAX_VALUE);
            int tapeBefore = Autograd.tapeSize();
            long liveBefore = Device.cpu().memoryStats().liveAllocations();
            for (int i = 0; i < 300; i++) {
                try (Tensor y = Ops.relu(Ops.matmul(x, w))) {  // the matmul's output: no Scope, the Cleaner frees it
                    assertEquals(64 * 256, y.numel());
                }
            }
            settle(tapeBefore, liveBefore);
            assertTrue(Autograd.tapeSize() <= tapeBefore, "tape: " + Autograd.tapeSize() + " nodes, " + tapeBefore + " before");
            long live = Device.cpu().memoryStats().liveAllocations();
            assertTrue(live <= liveBefore, "native allocations: " + live + ", " + liveBefore + " before");
        }
    }

    /** Collects garbage until the tape and the native allocations are down to the given counts (or 4 s pass). */
    private static void settle(int tape, long live) throws InterruptedException {
        for (int tries = 0; tries < 200; tries++) {
            System.gc();
            Thread.sleep(20);
            if (Autograd.tapeSize() <= tape && Device.cpu().memoryStats().liveAllocations() <= live) return;
        }
    }

    @Test
    void aCopyToADeviceIsRecorded() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(new float[] {1f, -2f, 3f}, 3).requiresGrad();
            Tensor y = x.to(Device.cpu());
            Tensor z = x.copy();
            y.mul(y).sum().add(z.sum()).backward();  // d/dx (x^2 + x) = 2x + 1
            assertArrayEquals(new float[] {3f, -3f, 7f}, x.grad().toFloatArray());
        }
    }
}

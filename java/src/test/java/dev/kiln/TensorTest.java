package dev.kiln;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorTest {
    static List<Device> devices() {
        return Devices.all();
    }

    @ParameterizedTest
    @MethodSource("devices")
    void allocatesFillsCopiesAndReadsBack(Device device) {
        try (Scope scope = Scope.open()) {
            float[] data = new float[1031];
            for (int i = 0; i < data.length; i++) data[i] = i * 0.5f - 7f;
            Tensor t = Tensor.of(device, data, 1031);
            assertEquals(device, t.device());
            assertArrayEquals(data, t.toFloatArray());

            Tensor z = Tensor.zeros(device, 3, 5);
            assertArrayEquals(new float[15], z.toFloatArray());
            assertArrayEquals(new int[] {3, 5}, z.shape());
            Tensor f = Tensor.full(device, -2.25f, 2, 2, 2);
            assertArrayEquals(new float[] {-2.25f, -2.25f, -2.25f, -2.25f, -2.25f, -2.25f, -2.25f, -2.25f}, f.toFloatArray());
            assertEquals(1f, Tensor.ones(device, 1).item());

            // to(): through every pair of devices and back, bit for bit.
            for (Device other : devices()) {
                Tensor moved = t.to(other);
                assertEquals(other, moved.device());
                assertArrayEquals(data, moved.to(device).toFloatArray());
            }
            Tensor copy = t.copy();
            assertArrayEquals(data, copy.toFloatArray());
            assertTrue(scope.size() > 0);
        }
    }

    @Test
    void viewsShareMemoryAndInferOneDimension() {
        try (Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
            Tensor v = t.view(3, -1);
            assertArrayEquals(new int[] {3, 2}, v.shape());
            Tensor r = t.reshape(6);
            assertEquals(t.address(), r.address());
            t.close();
            // the memory stays alive while a view is open
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, r.toFloatArray());
            v.close();
            r.close();
        }
    }

    @Test
    void badShapesNameTheOpAndTheShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("Tensor.of") && e.getMessage().contains("(2, 3)") && e.getMessage().contains("5"), e.getMessage());
        try (Tensor t = Tensor.zeros(4, 6)) {
            e = assertThrows(IllegalArgumentException.class, () -> t.view(5, 5));
            assertTrue(e.getMessage().contains("view") && e.getMessage().contains("(5, 5)") && e.getMessage().contains("(4, 6)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> t.view(-1, -1));
            assertTrue(e.getMessage().contains("only one dimension may be -1"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> t.view(7, -1));
            assertTrue(e.getMessage().contains("cannot infer"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> t.dim(2));
            assertEquals(6, t.dim(-1));
        }
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, -1));
        assertTrue(e.getMessage().contains("negative dimension"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(1 << 30, 1 << 30, 1 << 30));
        assertTrue(e.getMessage().contains("too many elements"), e.getMessage());
    }

    @Test
    void closedTensorsThrowInsteadOfCrashing() {
        Tensor t = Tensor.ones(2, 2);
        t.close();
        t.close();  // idempotent
        assertTrue(t.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, t::toFloatArray);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, t::address);
        assertThrows(IllegalStateException.class, () -> t.view(4));
        assertThrows(IllegalStateException.class, () -> t.to(Device.cpu()));
        assertTrue(t.toString().contains("closed"));
    }

    @Test
    void hugeAllocationIsAnOutOfMemoryException() {
        KilnOutOfMemoryException e = assertThrows(KilnOutOfMemoryException.class,
                () -> Tensor.empty(Device.cpu(), 1 << 24, 1 << 24));
        assertTrue(e.getMessage().contains("out of memory") && e.getMessage().contains("cpu"), e.getMessage());
        // and the library is still fine afterwards
        try (Tensor t = Tensor.ones(3)) {
            assertArrayEquals(new float[] {1, 1, 1}, t.toFloatArray());
        }
    }

    @Test
    void scalarsAndItems() {
        try (Tensor s = Tensor.scalar(Device.cpu(), 4.5f)) {
            assertEquals(0, s.rank());
            assertEquals(1, s.numel());
            assertEquals(4.5f, s.item());
        }
        try (Tensor t = Tensor.zeros(2)) {
            assertThrows(IllegalStateException.class, t::item);
            assertFalse(t.isClosed());
        }
    }

    @Test
    void setGradTakesTheGradientOutOfItsScopeAndRefusesOnesThatDoNotFit() {
        try (Tensor p = Tensor.ones(2).requiresGrad()) {
            try (Scope s = Scope.open()) {
                p.setGrad(Tensor.of(new float[] {3f, 4f}, 2));  // made in the scope, now p's
            }
            assertArrayEquals(new float[] {3f, 4f}, p.grad().toFloatArray(), 0f, "the scope did not close it");
            try (Scope s = Scope.open()) {
                assertThrows(IllegalArgumentException.class, () -> p.setGrad(Tensor.ofInts(Device.cpu(), new int[] {1, 2}, 2)));
                assertThrows(IllegalArgumentException.class, () -> p.setGrad(Tensor.ones(3)));
                Tensor closed = Tensor.ones(2);
                closed.close();
                assertThrows(IllegalArgumentException.class, () -> p.setGrad(closed));
                assertThrows(IllegalArgumentException.class, () -> p.setGrad(p));
            }
            assertArrayEquals(new float[] {3f, 4f}, p.grad().toFloatArray(), 0f, "refusals changed nothing");
        }
        Tensor gone = Tensor.ones(2).requiresGrad();
        gone.close();
        try (Tensor g = Tensor.ones(2)) {
            assertThrows(IllegalStateException.class, () -> gone.setGrad(g));
        }
    }
}

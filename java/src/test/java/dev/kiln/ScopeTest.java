package dev.kiln;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScopeTest {
    @Test
    void tenThousandTensorsInScopesLeaveMemoryWhereItStarted() {
        for (Device device : Devices.all()) {
            MemoryStats before = device.memoryStats();
            for (int step = 0; step < 100; step++) {
                try (Scope scope = Scope.open()) {
                    for (int i = 0; i < 100; i++) Tensor.zeros(device, 1 + (i * 37) % 300, 3);
                    assertEquals(100, scope.size());
                }
            }
            MemoryStats after = device.memoryStats();
            assertEquals(before.liveAllocations(), after.liveAllocations(), device + " live allocations");
            assertEquals(before.bytesInUse(), after.bytesInUse(), device + " bytes in use");
            assertEquals(before.totalAllocations() + 10_000, after.totalAllocations(), device + " total allocations");
        }
    }

    @Test
    void nestedScopesAndKeep() {
        MemoryStats before = Device.cpu().memoryStats();
        Tensor survivor;
        Tensor inner;
        try (Scope outer = Scope.open()) {
            Tensor a = Tensor.ones(2);
            try (Scope in = Scope.open()) {
                inner = Tensor.zeros(3);
                Tensor kept = in.keep(Tensor.ones(4));
                assertEquals(1, in.size());
                assertEquals(2, outer.size());  // a and the kept tensor moved out
                survivor = outer.keep(kept);
            }
            assertTrue(inner.isClosed());
            assertFalse(a.isClosed());
        }
        assertFalse(survivor.isClosed());
        assertEquals(4, survivor.numel());
        survivor.close();
        assertEquals(before.liveAllocations(), Device.cpu().memoryStats().liveAllocations());
    }

    @Test
    void explicitCloseInsideAScopeIsForgotten() {
        try (Scope scope = Scope.open()) {
            Tensor t = Tensor.ones(2);
            t.close();
            assertEquals(0, scope.size());
            assertThrows(IllegalArgumentException.class, () -> scope.keep(t));
        }
    }

    @Test
    void scopesCloseInnermostFirst() {
        Scope outer = Scope.open();
        Scope inner = Scope.open();
        IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
        assertTrue(e.getMessage().contains("innermost first"), e.getMessage());
        inner.close();
        outer.close();
        try (Tensor t = Tensor.ones(1)) {  // no scope left open: the tensor is the caller's
            assertFalse(t.isClosed());
        }
    }
}

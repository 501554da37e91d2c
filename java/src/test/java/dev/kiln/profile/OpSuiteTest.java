package dev.kiln.profile;

import dev.kiln.Device;
import dev.kiln.MemoryStats;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpSuiteTest {
    @Test
    void everyCaseRunsOnceAndStatesItsCost() {
        Device cpu = Device.cpu();
        MemoryStats before = cpu.memoryStats();
        List<OpSuite.Case> cases = OpSuite.all();
        Set<String> names = new HashSet<>();
        for (OpSuite.Case c : cases) {
            assertTrue(names.add(c.name()), "duplicate case " + c.name());
            OpBenchmark.Result r = OpBenchmark.measure(c, cpu, new DevicePeak(100, 10), 1, 0.5);
            assertTrue(r.medianMillis() > 0 && r.minMillis() <= r.medianMillis() && r.medianMillis() <= r.maxMillis(), r.toString());
            assertTrue(r.bytes() > 0, r.toString());
            boolean arithmetic = List.of("gemm", "conv2d", "lstm", "attention").contains(c.family());
            assertEquals(arithmetic, r.flops() > 0, "flops stated exactly by the compute-bound families: " + r);
            assertEquals(arithmetic ? "GFLOP/s" : "GB/s", r.unit());
            assertTrue(r.rate() > 0 && r.fractionOfPeak() > 0, r.toString());
        }
        // Exact arithmetic of one case: 2 m n k.
        OpBenchmark.Result gemm = OpBenchmark.measure(cases.get(0), cpu, null, 1, 0.5);
        assertEquals(2L * 64 * 784 * 256, gemm.flops());
        assertEquals(12, OpSuite.families(cases).size());
        MemoryStats after = cpu.memoryStats();
        assertEquals(before.liveAllocations(), after.liveAllocations(), "every case frees its inputs");
    }

    @Test
    void selectsFamiliesAndRefusesUnknownOnes() {
        assertTrue(OpSuite.select("gemm,lstm").stream().allMatch(c -> c.family().equals("gemm") || c.family().equals("lstm")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OpSuite.select("fft"));
        assertTrue(e.getMessage().contains("families: [gemm"), e.getMessage());
    }
}

package dev.kiln.profile;

import dev.kiln.Device;
import dev.kiln.KilnException;
import dev.kiln.MemoryStats;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
        assertEquals(List.of("gemm", "elementwise", "reductions", "losses", "optimizers", "conv2d", "pooling", "batch_norm",
                "lstm", "attention", "layer_norm", "sampling", "transpose"), OpSuite.families(cases));
        MemoryStats after = cpu.memoryStats();
        assertEquals(before.liveAllocations(), after.liveAllocations(), "every case frees its inputs");
    }

    @Test
    void cpuUsesTheWallClockAndTheFlushIsANoOp() {
        Device cpu = Device.cpu();
        OpSuite.Case gemm = OpSuite.select("gemm").get(0);
        OpBenchmark.Result warm = OpBenchmark.measure(gemm, cpu, null, 2, 0.5);
        assertEquals(OpBenchmark.CLOCK_WALL, warm.clock());
        assertEquals(OpBenchmark.L2_WARM, warm.l2());
        long live = cpu.memoryStats().liveAllocations();
        OpBenchmark.Result flushed = OpBenchmark.measure(gemm, cpu, null, 2, 0.5, true);
        assertEquals(OpBenchmark.CLOCK_WALL, flushed.clock());
        assertEquals("flush: no-op on cpu", flushed.l2());
        assertTrue(flushed.medianMillis() > 0, flushed.toString());
        assertEquals(0, DeviceTimer.flushL2(cpu), "the CPU's flush writes nothing");
        assertEquals(live, cpu.memoryStats().liveAllocations(), "and allocates nothing");
        assertFalse(DeviceTimer.supported(cpu));
        KilnException e = assertThrows(KilnException.class, () -> DeviceTimer.start(cpu));
        assertTrue(e.getMessage().contains("kiln_stream_timer_start") && e.getMessage().contains("wall time"), e.getMessage());
    }

    /** On a GPU: events time the runs, the flush writes at least one L2's worth twice over and is kept for reuse. */
    @Test
    void cudaUsesEventsAndFlushesTheL2() {
        Assumptions.assumeTrue(Device.cudaAvailable(), "no CUDA device (" + Device.cudaUnavailableReason()
                + "): event timing and L2 flush SKIPPED");
        Device gpu = Device.cuda(0);
        OpSuite.Case gemm = OpSuite.select("gemm").get(0);
        OpBenchmark.Result warm = OpBenchmark.measure(gemm, gpu, null, 3, 2);
        OpBenchmark.Result cold = OpBenchmark.measure(gemm, gpu, null, 3, 2, true);
        assertEquals(OpBenchmark.CLOCK_CUDA_EVENTS, warm.clock());
        assertEquals(OpBenchmark.L2_WARM, warm.l2());
        assertEquals(OpBenchmark.L2_FLUSHED, cold.l2());
        assertTrue(warm.medianMillis() > 0 && cold.medianMillis() > 0, warm + " / " + cold);
        long bytes = DeviceTimer.flushL2(gpu);
        assertTrue(bytes >= 2L << 20, "flush buffer " + bytes);
        assertEquals(bytes, DeviceTimer.flushL2(gpu), "the buffer is reused");
        DeviceTimer.start(gpu);
        DeviceTimer.flushL2(gpu);
        assertTrue(DeviceTimer.stopMillis(gpu) > 0);
        gpu.emptyCache();
    }

    @Test
    void selectsFamiliesAndRefusesUnknownOnes() {
        assertTrue(OpSuite.select("gemm,lstm").stream().allMatch(c -> c.family().equals("gemm") || c.family().equals("lstm")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OpSuite.select("fft"));
        assertTrue(e.getMessage().contains("families: [gemm"), e.getMessage());
    }
}

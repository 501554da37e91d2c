package dev.kiln;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.kiln.data.BatchLoader;
import dev.kiln.models.Cnn;
import dev.kiln.optim.Adam;
import dev.kiln.profile.OpRecord;
import dev.kiln.profile.ProfileSummary;
import dev.kiln.profile.RangeRecord;
import dev.kiln.train.Classification;
import dev.kiln.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProfilerTest {
    private static final int BATCH = 8;

    /** One CNN training step under the profiler: its ops, counted from the model's layers, and their ranges. */
    private static Profiler profileOneCnnStep(Device device) {
        Generator g = new Generator(7);
        try (Cnn net = Cnn.fashionMnist(device, g); Adam adam = new Adam(net.parameters(), 1e-3f)) {
            List<BatchLoader.Batch> batches = new ArrayList<>();
            batches.add(new BatchLoader.Batch(Tensor.rand(g, device, BATCH, 1, 28, 28),
                    Tensor.ofInts(device, new int[] {0, 1, 2, 3, 4, 5, 6, 7}, BATCH), BATCH));
            Trainer trainer = new Trainer(net, adam);
            trainer.epoch(1, batches.iterator(), 1, BatchLoader.Batch::size, Classification.step(net)); // warm-up
            Iterator<BatchLoader.Batch> again = List.of(batches.get(0)).iterator();
            Profiler profiler = Profiler.start();
            try {
                trainer.epoch(2, again, 1, BatchLoader.Batch::size, Classification.step(net));
            } finally {
                profiler.stop();
            }
            batches.get(0).x().close();
            batches.get(0).y().close();
            return profiler;
        }
    }

    private static Map<String, Long> counts(List<OpRecord> ops) {
        return ops.stream().collect(Collectors.groupingBy(OpRecord::name, TreeMap::new, Collectors.counting()));
    }

    @Test
    void oneCnnStepListsEveryOpTheModelRuns() {
        for (Device device : Devices.all()) {
            Profiler profiler = profileOneCnnStep(device);
            List<OpRecord> ops = profiler.ops();
            Map<String, Long> n = counts(ops);
            int zeroGradOps = 0;
            // Conv(1->32) ReLU MaxPool, Conv(32->64) ReLU MaxPool, Flatten, Dense(1600->128) ReLU, Dense(128->10);
            // cross entropy; Adam over 4 weights and 4 biases. Every op of the step, each counted from the model:
            Map<String, Long> want = new TreeMap<>(Map.ofEntries(
                    Map.entry("conv2d_forward_f32", 2L),
                    Map.entry("conv2d_backward_weight_f32", 2L),     // with the bias gradient fused
                    Map.entry("conv2d_backward_data_f32", 1L),       // the images need no gradient
                    Map.entry("max_pool2d_f32", 2L), Map.entry("max_pool2d_backward_f32", 2L),
                    Map.entry("activation_f32", 3L), Map.entry("activation_backward_f32", 3L),  // three ReLUs
                    // Dense: y = x W^T forward; dW = dy^T x and dx = dy W backward (the first dense layer's input is
                    // a pooled activation, which needs its gradient); the bias added in place, its gradient a column
                    // sum of dy.
                    Map.entry("gemm_f32", 6L), Map.entry("binary_f32", 2L), Map.entry("reduce_sum_f32", 2L),
                    Map.entry("cross_entropy_f32", 1L), Map.entry("cross_entropy_backward_f32", 1L),
                    // backward's seed is a 1; the epoch's loss sum starts at 0
                    Map.entry("fill_f32", 2L),
                    // zero_grad only marks the 8 gradients: backward writes each over its buffer, the dense weights'
                    // gradients from their GEMMs directly (beta 0), the other six with a copy
                    Map.entry("copy_device", 6L),
                    // the logged loss joins its running sum
                    Map.entry("axpy_f32", 1L),
                    Map.entry("adam_step_f32", 8L),
                    Map.entry("copy_to_host", 1L)));                  // the epoch's mean loss, read once
            assertEquals(want, n, device.toString());

            // Every op of the step runs inside "step 1"; each in the part of the step it belongs to.
            for (OpRecord o : ops) {
                if (o.name().equals("copy_to_host")) {
                    assertEquals("", o.ranges(), "the trainer reads the epoch's means after the step");
                    continue;
                }
                assertTrue(o.ranges().startsWith("step 1"), o + " outside the step");
                if (o.ranges().contains("zero_grad")) zeroGradOps++;
                String part = o.ranges().contains("/ optimizer") ? "optimizer" : o.ranges().contains("/ backward") ? "backward"
                        : o.ranges().contains("/ forward") ? "forward" : o.ranges().contains("/ zero_grad") ? "zero_grad" : "";
                if (o.name().equals("adam_step_f32")) assertEquals("optimizer", part, o.toString());
                if (o.name().contains("backward")) assertEquals("backward", part, o.toString());
                if (o.name().equals("conv2d_forward_f32") || o.name().equals("cross_entropy_f32")) {
                    assertEquals("forward", part, o.toString());
                }
                assertEquals(device, o.device(), o.toString());
                assertTrue(o.wallNanos() >= 0 && o.startNanos() >= 0, o.toString());
                assertTrue(o.bytes() > 0, o.toString());
            }
            assertEquals(0, zeroGradOps, "zero_grad is lazy: no kernel");
            OpRecord conv = ops.stream().filter(o -> o.name().equals("conv2d_forward_f32")).findFirst().orElseThrow();
            assertEquals("x[8,1,28,28] weight[32,1,3,3] bias[32] y[8,32,26,26]", conv.args());
            assertEquals(2L * 8 * 32 * 26 * 26 * 1 * 3 * 3, conv.flops());
            assertTrue(conv.path().equals("winograd") || conv.path().equals("implicit_gemm"), conv.path());
            if (device.isCpu()) assertTrue(Double.isNaN(conv.deviceMillis()));
            else assertTrue(conv.deviceMillis() > 0, conv.toString());

            Map<String, Long> rangeCounts = profiler.ranges().stream()
                    .collect(Collectors.groupingBy(RangeRecord::name, TreeMap::new, Collectors.counting()));
            assertEquals(1L, rangeCounts.get("step 1"), rangeCounts.toString());
            assertEquals(1L, rangeCounts.get("backward"), rangeCounts.toString());
            assertEquals(1L, rangeCounts.get("optimizer"), rangeCounts.toString());
            assertEquals(1L, rangeCounts.get("zero_grad"), rangeCounts.toString());
        }
    }

    @Test
    void summarySortsByTotalTimeAndCountsEveryOp() {
        Profiler profiler = profileOneCnnStep(Device.cpu());
        List<ProfileSummary.Row> rows = ProfileSummary.rows(profiler.ops());
        for (int i = 1; i < rows.size(); i++) assertTrue(rows.get(i - 1).totalMillis() >= rows.get(i).totalMillis());
        assertEquals(profiler.ops().size(), rows.stream().mapToLong(ProfileSummary.Row::calls).sum());
        ProfileSummary.Row gemm = rows.stream().filter(r -> r.label().equals("gemm_f32")).findFirst().orElseThrow();
        // 8 x 1600 x 128 and 8 x 128 x 10, forward and both gradients: 3 x 2 x 8 x (1600 x 128 + 128 x 10) flops.
        assertEquals(3L * 2 * 8 * (1600 * 128 + 128 * 10), gemm.flops());
        String table = profiler.summary();
        assertTrue(table.contains("conv2d_forward_f32 ["), table);
        assertTrue(table.contains("GFLOP/s") && table.contains("GB/s"), table);
        assertTrue(table.contains("step #"), table);
    }

    @Test
    void chromeTraceFollowsTheTraceEventFormat(@TempDir Path dir) throws Exception {
        Profiler profiler = profileOneCnnStep(Device.cpu());
        Path file = dir.resolve("trace.json");
        profiler.writeChromeTrace(file);
        JsonObject doc = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        JsonArray events = doc.getAsJsonArray("traceEvents");
        int opEvents = 0;
        List<JsonObject> ranges = new ArrayList<>();
        double lastTs = -1;
        for (JsonElement e : events) {
            JsonObject o = e.getAsJsonObject();
            String ph = o.get("ph").getAsString();
            assertTrue(o.has("name") && o.has("pid") && o.has("tid"), o.toString());
            if (ph.equals("M")) continue;
            assertEquals("X", ph, o.toString());
            double ts = o.get("ts").getAsDouble();
            assertTrue(ts >= lastTs, "events sorted by ts");
            lastTs = ts;
            assertTrue(o.get("dur").getAsDouble() >= 0);
            if (o.get("cat").getAsString().equals("op")) {
                opEvents++;
                if (o.get("name").getAsString().equals("copy_to_host")) continue;  // after the step: the epoch's read
                assertTrue(o.getAsJsonObject("args").has("args"));
                // Nested: the op lies within the step range on its thread.
                JsonObject step = ranges.stream().filter(r -> r.get("name").getAsString().equals("step 1")).findFirst().orElseThrow();
                assertEquals(step.get("tid").getAsLong(), o.get("tid").getAsLong());
                assertTrue(ts >= step.get("ts").getAsDouble()
                        && ts + o.get("dur").getAsDouble() <= step.get("ts").getAsDouble() + step.get("dur").getAsDouble() + 1e-3,
                        o + " not inside " + step);
            } else {
                ranges.add(o);
            }
        }
        assertEquals(profiler.ops().size(), opEvents);
        assertEquals(profiler.ranges().size(), ranges.size());
    }

    @Test
    void offRecordsNothingAndRangesCostNothing() {
        Profiler profiler = Profiler.start();
        assertThrows(IllegalStateException.class, Profiler::start, "one profiler at a time");
        assertThrows(IllegalStateException.class, profiler::ops, "stop first");
        try (Profiler.Range r = Profiler.range("user")) {
            try (Scope s = Scope.open()) {
                assertEquals(16f, Tensor.ones(Device.cpu(), 16).sum().item());
            }
        }
        profiler.stop();
        profiler.stop();  // idempotent
        int recorded = profiler.ops().size();
        assertTrue(recorded >= 2, "fill and the sum: " + profiler.ops());
        assertTrue(profiler.ops().stream().allMatch(o -> o.ranges().equals("user")), profiler.ops().toString());
        try (Tensor t = Tensor.ones(Device.cpu(), 16)) {
            t.sum().close();
        }
        assertEquals(recorded, profiler.ops().size(), "nothing recorded after stop");
        assertSame(null, Profiler.active());
        if (!Device.cudaAvailable()) {
            assertSame(Profiler.range("a"), Profiler.range("b"), "without a GPU and a profiler a range is the shared no-op");
        }
        Profiler second = Profiler.start();
        assertNotSame(profiler, second);
        second.close();
        assertFalse(second.ops().isEmpty() && !second.ranges().isEmpty());
    }
}

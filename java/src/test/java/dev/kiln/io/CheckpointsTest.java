package dev.kiln.io;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.nn.Activation;
import dev.kiln.nn.BatchNorm2d;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Module;
import dev.kiln.nn.Sequential;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Adam;
import dev.kiln.optim.Optimizer;
import dev.kiln.optim.Sgd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Module and optimizer checkpoints: bit-exact round trips, and a resumed run that matches an uninterrupted one. */
class CheckpointsTest {
    @TempDir
    Path dir;

    private static Sequential net(long seed) {
        Generator g = new Generator(seed);
        return new Sequential(new Linear(4, 8, Device.cpu(), g), Activation.relu(), new Linear(8, 2, Device.cpu(), g));
    }

    /** Raw bits of every tensor of a state dict, in order. */
    private static List<int[]> bits(Map<String, Tensor> state) {
        List<int[]> out = new ArrayList<>();
        for (Tensor t : state.values()) {
            float[] v = t.toFloatArray();
            int[] b = new int[v.length];
            for (int i = 0; i < v.length; i++) b[i] = Float.floatToRawIntBits(v[i]);
            out.add(b);
        }
        return out;
    }

    private static void assertSameBits(List<int[]> expected, List<int[]> got) {
        assertEquals(expected.size(), got.size());
        for (int i = 0; i < expected.size(); i++) assertArrayEquals(expected.get(i), got.get(i), "tensor " + i);
    }

    @Test
    void moduleStateRoundTripsBitForBitWithMetadata() throws IOException {
        Path f = dir.resolve("model.safetensors");
        try (Sequential a = net(1); Sequential b = net(2); BatchNorm2d bnA = new BatchNorm2d(3, Device.cpu());
             BatchNorm2d bnB = new BatchNorm2d(3, Device.cpu())) {
            Checkpoints.saveModule(f, a, Map.of("model", "mlp", "epoch", "4"));
            Map<String, String> meta = Checkpoints.loadModule(f, b);
            assertEquals(Map.of("model", "mlp", "epoch", "4"), meta);
            assertSameBits(bits(a.stateDict()), bits(b.stateDict()));
            assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), List.copyOf(SafeTensors.readHeader(f).tensors().keySet()));

            // Buffers travel too.
            Ops.fill_(bnA.stateDict().get("running_mean"), 0.75f);
            Path g = dir.resolve("bn.safetensors");
            Checkpoints.saveModule(g, bnA, null);
            Checkpoints.loadModule(g, bnB);
            assertArrayEquals(new float[] {0.75f, 0.75f, 0.75f}, bnB.stateDict().get("running_mean").toFloatArray());
        }
    }

    @Test
    void aFileThatDoesNotFitChangesNothing() throws IOException {
        Path f = dir.resolve("other.safetensors");
        Generator g = new Generator(3);
        try (Sequential other = new Sequential(new Linear(4, 5, Device.cpu(), g)); Sequential target = net(4)) {
            Checkpoints.saveModule(f, other, null);
            List<int[]> before = bits(target.stateDict());
            long live = Device.cpu().memoryStats().liveAllocations();
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.loadModule(f, target));
            assertTrue(e.getMessage().contains("does not fit Sequential"), e.getMessage());
            assertTrue(e.getMessage().contains("0.weight") && e.getMessage().contains("missing '2.weight'"), e.getMessage());
            assertSameBits(before, bits(target.stateDict()));
            assertEquals(live, Device.cpu().memoryStats().liveAllocations(), "the loaded tensors were freed");
        }
    }

    /** A few steps of regression on fixed data. */
    private static void train(Module model, Optimizer opt, Tensor x, Tensor y, int steps) {
        Sequential net = (Sequential) model;
        for (int i = 0; i < steps; i++) {
            try (Scope s = Scope.open()) {
                opt.zeroGrad();
                Ops.mse(net.forward(x), y).backward();
                opt.step();
            }
        }
    }

    private interface OptimizerFactory {
        Optimizer create(List<Tensor> params);
    }

    private void resumeMatchesAnUninterruptedRun(OptimizerFactory factory) throws IOException {
        Path m = dir.resolve("m.safetensors"), o = dir.resolve("o.safetensors");
        Generator data = new Generator(99);
        try (Tensor x = Tensor.randn(data, Device.cpu(), 16, 4); Tensor y = Tensor.randn(data, Device.cpu(), 16, 2);
             Sequential a = net(5); Optimizer optA = factory.create(a.parameters())) {
            train(a, optA, x, y, 3);
            Checkpoints.saveModule(m, a, null);
            Checkpoints.saveOptimizer(o, optA, Map.of("run", "test"));
            try (Sequential b = net(6); Optimizer optB = factory.create(b.parameters())) {
                Checkpoints.loadModule(m, b);
                Map<String, String> meta = Checkpoints.loadOptimizer(o, optB);
                assertEquals("test", meta.get("run"));
                assertEquals(3, optB.steps());
                assertSameBits(bits(optA.stateDict()), bits(optB.stateDict()));
                train(a, optA, x, y, 2);
                train(b, optB, x, y, 2);
                assertSameBits(bits(a.stateDict()), bits(b.stateDict()));
                assertSameBits(bits(optA.stateDict()), bits(optB.stateDict()));
            }
        }
    }

    @Test
    void adamResumesBitForBit() throws IOException {
        resumeMatchesAnUninterruptedRun(p -> new Adam(p, 1e-2f));
    }

    @Test
    void sgdWithMomentumResumesBitForBit() throws IOException {
        resumeMatchesAnUninterruptedRun(p -> new Sgd(p, 0.05f, 0.9f, 0f, true));
    }

    @Test
    void optimizerFileMustComeFromTheSameKindOfOptimizer() throws IOException {
        Path o = dir.resolve("sgd.safetensors");
        try (Sequential a = net(7); Sgd sgd = new Sgd(a.parameters(), 0.1f, 0.9f, 0f, false); Adam adam = new Adam(a.parameters(), 1e-3f)) {
            Checkpoints.saveOptimizer(o, sgd, null);
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.loadOptimizer(o, adam));
            assertTrue(e.getMessage().contains("holds the state of dev.kiln.optim.Sgd"), e.getMessage());
            Path plain = dir.resolve("model.safetensors");
            Checkpoints.saveModule(plain, a, null);
            e = assertThrows(CheckpointException.class, () -> Checkpoints.loadOptimizer(plain, adam));
            assertTrue(e.getMessage().contains("not an optimizer checkpoint"), e.getMessage());
        }
    }

    @Test
    void optimizerFileMustComeFromAnOptimizerOverTheSameParameters() throws IOException {
        Path o = dir.resolve("adam.safetensors");
        try (Tensor a = Tensor.ones(3).requiresGrad(); Tensor b = Tensor.ones(5).requiresGrad();
             Adam one = new Adam(List.of(a), 0.1f); Adam two = new Adam(List.of(a, b), 0.1f);
             Sgd sgdA = new Sgd(List.of(a), 0.1f); Sgd sgdB = new Sgd(List.of(b), 0.1f)) {
            a.setGrad(Tensor.ones(3));
            one.step();
            Checkpoints.saveOptimizer(o, one, null);
            // Its one entry fits parameter 0 of `two`: only the saved parameter list tells the files apart.
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.loadOptimizer(o, two));
            assertTrue(e.getMessage().contains("over parameters [3]; this one's are [3] [5]"), e.getMessage());
            assertEquals(0, two.steps(), "nothing was loaded");
            // SGD without momentum keeps no state at all: the shapes are all there is to check.
            Checkpoints.saveOptimizer(o, sgdA, null);
            assertThrows(CheckpointException.class, () -> Checkpoints.loadOptimizer(o, sgdB));
            Checkpoints.loadOptimizer(o, sgdA);
        }
    }
}

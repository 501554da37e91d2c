package dev.kiln.io;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.nn.Activation;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Sequential;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Adam;
import dev.kiln.optim.Optimizer;
import dev.kiln.optim.Sgd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One file for a whole run: a model and two optimizers (a GAN's shape) round-trip bit for bit with their step counts,
 * configuration and counters; any part that does not fit refuses the whole load before anything changes.
 */
class TrainingCheckpointTest {
    @TempDir
    Path dir;

    private static final Map<String, String> CONFIG = Map.of("model", "toy", "seed", "1");

    private static Sequential net(long seed) {
        Generator g = new Generator(seed);
        return new Sequential(new Linear(4, 8, Device.cpu(), g), Activation.relu(), new Linear(8, 2, Device.cpu(), g));
    }

    /** Steps both optimizers on both halves of the net, so each has state. */
    private static void train(Sequential net, Optimizer first, Optimizer second, int steps) {
        Generator data = new Generator(9);
        for (int i = 0; i < steps; i++) {
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.randn(data, Device.cpu(), 8, 4), y = Tensor.randn(data, Device.cpu(), 8, 2);
                first.zeroGrad();
                second.zeroGrad();
                Ops.mse(net.forward(x), y).backward();
                first.step();
                second.step();
            }
        }
    }

    private static float[] weights(Sequential net) {
        return net.stateDict().get("0.weight").toFloatArray();
    }

    @Test
    void aModelAndTwoOptimizersRoundTripWithTheirCounters() throws IOException {
        Path f = dir.resolve(TrainingCheckpoint.FILE_NAME);
        try (Sequential a = net(1); Adam a1 = new Adam(a.parameters().subList(0, 2), 1e-2f);
             Adam a2 = new Adam(a.parameters().subList(2, 4), 1e-2f);
             Sequential b = net(2); Adam b1 = new Adam(b.parameters().subList(0, 2), 1e-2f);
             Adam b2 = new Adam(b.parameters().subList(2, 4), 1e-2f)) {
            train(a, a1, a2, 3);
            TrainingCheckpoint.save(f, a, List.of(a1, a2), CONFIG, Map.of("epoch", "3"));
            assertEquals(CONFIG, TrainingCheckpoint.config(f));
            Map<String, String> state = TrainingCheckpoint.load(f, b, List.of(b1, b2), CONFIG, s -> { });
            assertEquals(Map.of("epoch", "3"), state);
            assertEquals(3, b2.steps());
            train(a, a1, a2, 2);
            train(b, b1, b2, 2);
            assertArrayEquals(weights(a), weights(b));
            assertArrayEquals(a2.stateDict().get("1.exp_avg_sq").toFloatArray(), b2.stateDict().get("1.exp_avg_sq").toFloatArray());
            try (Sequential c = net(3)) {
                TrainingCheckpoint.loadModel(f, c);
                assertTrue(TrainingCheckpoint.isCheckpoint(SafeTensors.readHeader(f)));
            }
        }
    }

    @Test
    void anyPartThatDoesNotFitRefusesTheWholeLoad() throws IOException {
        Path f = dir.resolve(TrainingCheckpoint.FILE_NAME);
        try (Sequential a = net(1); Adam a1 = new Adam(a.parameters().subList(0, 2), 1e-2f);
             Adam a2 = new Adam(a.parameters().subList(2, 4), 1e-2f);
             Sequential b = net(2); Adam b1 = new Adam(b.parameters().subList(0, 2), 1e-2f);
             Sgd b2 = new Sgd(b.parameters().subList(2, 4), 0.1f, 0.9f, 0f, false)) {
            train(a, a1, a2, 1);
            TrainingCheckpoint.save(f, a, List.of(a1, a2), CONFIG, Map.of("epoch", "1"));
            float[] before = weights(b);

            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> TrainingCheckpoint.load(f, b, List.of(b1, b2), CONFIG, s -> { }));
            assertTrue(e.getMessage().contains("optimizer 1 is dev.kiln.optim.Adam in the checkpoint, dev.kiln.optim.Sgd in this run"),
                    e.getMessage());
            e = assertThrows(CheckpointException.class, () -> TrainingCheckpoint.load(f, b, List.of(b1), CONFIG, s -> { }));
            assertTrue(e.getMessage().contains("it holds 2 optimizers, this run has 1"), e.getMessage());
            try (Adam swapped = new Adam(b.parameters().subList(1, 3), 1e-2f)) {
                e = assertThrows(CheckpointException.class,
                        () -> TrainingCheckpoint.load(f, b, List.of(b1, swapped), CONFIG, s -> { }));
                assertTrue(e.getMessage().contains("optimizer 1 is over parameters"), e.getMessage());
            }
            e = assertThrows(CheckpointException.class,
                    () -> TrainingCheckpoint.load(f, b, List.of(b1, b2), Map.of("model", "toy", "seed", "2"), s -> { }));
            assertTrue(e.getMessage().contains("seed: the checkpoint has '1', this run '2'"), e.getMessage());
            assertThrows(CheckpointException.class, () -> TrainingCheckpoint.load(f, b, List.of(b1, b2), CONFIG,
                    s -> {
                        throw new CheckpointException(f, "refused by the caller");
                    }));
            assertArrayEquals(before, weights(b), "nothing was loaded");
            assertEquals(0, b1.steps());

            Path plain = dir.resolve("model.safetensors");
            Checkpoints.saveModule(plain, a, null);
            e = assertThrows(CheckpointException.class, () -> TrainingCheckpoint.load(plain, b, List.of(b1), CONFIG, s -> { }));
            assertTrue(e.getMessage().contains("is not a training checkpoint"), e.getMessage());
        }
    }
}

package dev.kiln.train;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.nn.Linear;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Sgd;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The general training loop: metrics, several optimizers in one step (the GAN's shape), stopping, and its refusals. */
class TrainerTest {
    private static final Device CPU = Device.cpu();

    @Test
    void metricsAreEpochMeansOfWhatTheStepLogged() {
        try (Linear model = new Linear(1, 1, CPU, new Generator(1)); Sgd sgd = new Sgd(model.parameters(), 0.1f)) {
            List<Double> seen = new ArrayList<>();
            List<Integer> batches = IntStream.rangeClosed(1, 45).boxed().toList();  // not a multiple of READ_INTERVAL
            Trainer trainer = new Trainer(model, sgd).listener((epoch, batch, count, samples, means) -> {
                if (batch == count) seen.add(means.get("b"));
            });
            EpochStats stats = trainer.epoch(3, batches.iterator(), batches.size(), i -> 2, (i, step) -> {
                step.log("a", Tensor.scalar(CPU, i));
                step.log("b", Tensor.scalar(CPU, i * i));
            });
            assertEquals(List.of("a", "b"), List.copyOf(stats.means().keySet()), "metrics keep the order they were logged in");
            assertEquals(23.0, stats.mean("a"), 1e-9);                     // (1 + ... + 45) / 45
            assertEquals(45 * 46 * 91 / 6.0 / 45, stats.mean("b"), 1e-4);  // sum of squares / 45
            assertEquals(List.of(stats.mean("b")), seen, "the listener sees the final means at the last step");
            assertEquals(90, stats.samples());
            assertEquals(3, stats.epoch());
            assertThrows(IllegalArgumentException.class, () -> stats.mean("c"));
        }
    }

    /**
     * A GAN step with SGD on scalars, checked by hand: x = 1, G(x) = g x, D(z) = d z. The discriminator step
     * minimizes D(x) (so dd = x = 1), the generator step minimizes D(G(x)) = d' g with the updated d' (so dg = d').
     */
    @Test
    void oneStepAlternatesTwoOptimizers() {
        try (Linear g = new Linear(1, 1, false, CPU, new Generator(1)); Linear d = new Linear(1, 1, false, CPU, new Generator(2));
             Sgd optG = new Sgd(g.parameters(), 0.1f); Sgd optD = new Sgd(d.parameters(), 0.25f)) {
            float g0 = g.weight().item(), d0 = d.weight().item();
            Trainer trainer = new Trainer(List.of(g, d), List.of(optG, optD));
            trainer.epoch(1, List.of(1f).iterator(), 1, v -> 1, (v, step) -> {
                Tensor x = Tensor.full(CPU, v, 1, 1);
                Tensor lossD = Ops.sum(d.forward(x));
                step.minimize(lossD, optD);
                Tensor lossG = Ops.sum(d.forward(g.forward(x)));
                step.minimize(lossG, optG);
                step.log("d_loss", lossD);
                step.log("g_loss", lossG);
            });
            float d1 = d0 - 0.25f * 1f;
            assertEquals(d1, d.weight().item(), 1e-7f, "D took one step of its own loss only");
            assertEquals(g0 - 0.1f * d1, g.weight().item(), 1e-7f, "G stepped through the updated D");
            assertEquals(1f + g0, d.weight().grad().item(), 1e-6f,
                    "G's loss added g0 to D's gradient (D's optimizer zeroes it at its next minimize), but D did not step again");
        }
    }

    /**
     * The usual GAN step: one generator forward, the discriminator step on {@code detach(fake)}, then the generator
     * step through the same fake. The discriminator's backward must leave the generator's graph on the tape.
     * By hand: dd = fake = g0, so d1 = d0 - 0.25 g0; then dg = d1, so g1 = g0 - 0.1 d1.
     */
    @Test
    void generatorGraphSurvivesTheDetachedDiscriminatorStep() {
        try (Linear g = new Linear(1, 1, false, CPU, new Generator(3)); Linear d = new Linear(1, 1, false, CPU, new Generator(4));
             Sgd optG = new Sgd(g.parameters(), 0.1f); Sgd optD = new Sgd(d.parameters(), 0.25f)) {
            float g0 = g.weight().item(), d0 = d.weight().item();
            int[] tapeAfterD = new int[1];
            new Trainer(List.of(g, d), List.of(optG, optD)).epoch(1, List.of(1f).iterator(), 1, v -> 1, (v, step) -> {
                Tensor fake = g.forward(Tensor.full(CPU, v, 1, 1));
                step.minimize(Ops.sum(d.forward(fake.detach())), optD);
                tapeAfterD[0] = dev.kiln.ops.Autograd.tapeSize();
                step.minimize(Ops.sum(d.forward(fake)), optG);
            });
            assertEquals(1, tapeAfterD[0], "the generator's node is still on the tape after the discriminator's backward");
            assertEquals(0, dev.kiln.ops.Autograd.tapeSize());
            float d1 = d0 - 0.25f * g0;
            assertEquals(d1, d.weight().item(), 1e-6f);
            assertEquals(g0 - 0.1f * d1, g.weight().item(), 1e-6f);
        }
    }

    /**
     * requestStop() from the listener at step 7 of 45 (another thread calls it on Ctrl-C): the epoch ends after that
     * step, its means are those of the 7 steps (read although 7 is no multiple of READ_INTERVAL), and a later epoch
     * runs nothing. A loader's rest of an epoch numbers its steps from where it starts.
     */
    @Test
    void aStopEndsTheEpochAfterTheStepInProgress() {
        try (Linear model = new Linear(1, 1, CPU, new Generator(1)); Sgd sgd = new Sgd(model.parameters(), 0.1f)) {
            List<Integer> batches = IntStream.rangeClosed(1, 45).boxed().toList();
            Trainer[] self = new Trainer[1];
            self[0] = new Trainer(model, sgd).listener((epoch, batch, count, samples, means) -> {
                if (batch == 7) self[0].requestStop();
            });
            EpochStats stats = self[0].epoch(1, batches.iterator(), batches.size(), i -> 1, (i, step) -> step.log("a", Tensor.scalar(CPU, i)));
            assertTrue(stats.stopped());
            assertEquals(7, stats.steps());
            assertEquals(4.0, stats.mean("a"), 1e-9, "(1 + ... + 7) / 7");
            EpochStats later = self[0].epoch(2, batches.iterator(), batches.size(), i -> 1, (i, step) -> step.log("a", Tensor.scalar(CPU, i)));
            assertTrue(later.stopped() && later.steps() == 0, "a stopped trainer stays stopped");

            Trainer whole = new Trainer(model, sgd);
            EpochStats all = whole.epoch(1, batches.iterator(), batches.size(), i -> 1, (i, step) -> { });
            assertTrue(!all.stopped() && all.steps() == 45);
            List<Integer> numbered = new ArrayList<>();
            float[] features = new float[10];
            dev.kiln.data.Dataset data = new dev.kiln.data.Dataset("toy", features, new int[] {1}, new int[10], 10);
            dev.kiln.data.BatchLoader loader = new dev.kiln.data.BatchLoader(data, 3, true, 5, CPU);
            EpochStats rest = new Trainer(model, sgd).listener((epoch, batch, count, samples, means) -> numbered.add(batch))
                    .epoch(1, loader, 2, (b, step) -> { });
            assertEquals(List.of(3, 4), numbered, "batches 3 and 4 of 4 (10 examples in threes)");
            assertEquals(2, rest.steps());
            assertEquals(4, rest.samples(), "a full batch of 3 and the last of 1");
        }
    }

    @Test
    void refusesForeignOptimizersAmbiguousCallsAndDivergence() {
        try (Linear a = new Linear(1, 1, CPU, new Generator(1)); Linear b = new Linear(1, 1, CPU, new Generator(2));
             Sgd optA = new Sgd(a.parameters(), 0.1f); Sgd optB = new Sgd(b.parameters(), 0.1f)) {
            Trainer one = new Trainer(a, optA);
            IllegalArgumentException foreign = assertThrows(IllegalArgumentException.class, () -> one.epoch(1,
                    List.of(1).iterator(), 1, i -> 1, (i, step) -> step.minimize(Ops.sum(a.forward(Tensor.ones(1, 1))), optB)));
            assertTrue(foreign.getMessage().contains("not one of this trainer's"), foreign.getMessage());
            Trainer two = new Trainer(List.of(a, b), List.of(optA, optB));
            IllegalStateException ambiguous = assertThrows(IllegalStateException.class, () -> two.epoch(1,
                    List.of(1).iterator(), 1, i -> 1, (i, step) -> step.minimize(Ops.sum(a.forward(Tensor.ones(1, 1))))));
            assertTrue(ambiguous.getMessage().contains("2 optimizers"), ambiguous.getMessage());
            IllegalStateException diverged = assertThrows(IllegalStateException.class, () -> one.epoch(4,
                    List.of(1, 2).iterator(), 2, i -> 1, (i, step) -> step.log("loss", Tensor.scalar(CPU, i == 2 ? Float.NaN : 1f))));
            assertTrue(diverged.getMessage().contains("diverged") && diverged.getMessage().contains("loss"), diverged.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new Trainer(List.of(a), List.of()));
        }
    }
}

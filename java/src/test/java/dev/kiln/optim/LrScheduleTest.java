package dev.kiln.optim;

import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The schedules against their closed forms; an optimizer's use of them (per step, refused, resumed). */
class LrScheduleTest {
    @Test
    void warmupCosineAndStepDecayFollowTheirFormulas() {
        LrSchedule s = LrSchedule.warmupCosine(4, 12, 0.1);
        assertEquals(0.25, s.factor(1), 1e-15);
        assertEquals(0.75, s.factor(3), 1e-15);
        assertEquals(1.0, s.factor(4), 1e-15);
        assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI / 8)), s.factor(5), 1e-15);
        assertEquals(0.55, s.factor(8), 1e-15, "half way down: the mean of 1 and 0.1");
        assertEquals(0.1, s.factor(12), 1e-15);
        assertEquals(0.1, s.factor(1000), 1e-15, "after the end it stays at the final factor");
        assertEquals(1.0, LrSchedule.warmupCosine(0, 10, 0).factor(1) / (0.5 * (1 + Math.cos(Math.PI / 10))), 1e-15,
                "no warmup: the cosine starts at step 1");

        LrSchedule d = LrSchedule.stepDecay(3, 0.5);
        double[] expected = {1, 1, 1, 0.5, 0.5, 0.5, 0.25};
        for (int t = 1; t <= expected.length; t++) assertEquals(expected[t - 1], d.factor(t), 0, "step " + t);
        assertEquals(1.0, LrSchedule.constant().factor(123), 0);

        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(10, 10, 0.1));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(-1, 10, 0.1));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(1, 10, 1.5));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.stepDecay(0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.stepDecay(5, 0));
    }

    /** SGD without momentum moves by exactly lr * factor(t) * g: the factor of each step is applied to that step. */
    @Test
    void eachStepUsesItsOwnFactor() {
        try (Tensor p = Tensor.of(new float[] {0f}, 1).requiresGrad(); Sgd sgd = new Sgd(List.of(p), 0.5f)) {
            sgd.schedule(t -> t);  // 1, 2, 3
            float[] seen = new float[3];
            for (int t = 0; t < 3; t++) {
                p.setGrad(Tensor.of(new float[] {1f}, 1));
                sgd.step();
                seen[t] = p.toFloatArray()[0];
            }
            assertArrayEquals(new float[] {-0.5f, -1.5f, -3f}, seen);
        }
    }

    @Test
    void aFactorThatIsNotFiniteAndNonNegativeIsRefusedBeforeAnythingChanges() {
        try (Tensor p = Tensor.of(new float[] {1f}, 1).requiresGrad(); Adam adam = new Adam(List.of(p), 0.1f)) {
            adam.schedule(t -> t == 2 ? Double.NaN : 1);
            p.setGrad(Tensor.of(new float[] {1f}, 1));
            adam.step();
            float after = p.toFloatArray()[0];
            Map<String, Tensor> state = adam.stateDict();
            float[] m = state.get("0.exp_avg").toFloatArray();
            IllegalStateException e = assertThrows(IllegalStateException.class, adam::step);
            assertTrue(e.getMessage().contains("factor NaN for step 2") && e.getMessage().contains("step count stays 1"), e.getMessage());
            assertEquals(after, p.toFloatArray()[0]);
            assertArrayEquals(m, adam.stateDict().get("0.exp_avg").toFloatArray());
            assertEquals(1, adam.steps());
            assertThrows(IllegalArgumentException.class, () -> adam.schedule(null));
        }
    }

    /**
     * The schedule is a function of the step count, which the state dict carries: an optimizer loaded after step 2
     * takes step 3 at step 3's rate, the bits of one that ran all three.
     */
    @Test
    void aLoadedOptimizerContinuesTheSchedule() {
        LrSchedule schedule = LrSchedule.warmupCosine(2, 4, 0.1);
        float[][] grads = {{1f, -2f}, {0.5f, 0.25f}, {-1f, 3f}};
        try (Tensor a = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad(); Tensor b = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad();
             Adam straight = new Adam(List.of(a), 0.1f); Adam first = new Adam(List.of(b), 0.1f)) {
            straight.schedule(schedule);
            first.schedule(schedule);
            for (int t = 0; t < 3; t++) {
                a.setGrad(Tensor.of(grads[t], 2));
                straight.step();
            }
            for (int t = 0; t < 2; t++) {
                b.setGrad(Tensor.of(grads[t], 2));
                first.step();
            }
            try (Adam resumed = new Adam(List.of(b), 0.1f)) {
                resumed.schedule(schedule);
                resumed.loadStateDict(first.stateDict(), first.steps());
                b.setGrad(Tensor.of(grads[2], 2));
                resumed.step();
            }
            assertArrayEquals(a.toFloatArray(), b.toFloatArray());
        }
    }
}

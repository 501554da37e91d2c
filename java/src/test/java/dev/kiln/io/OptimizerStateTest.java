package dev.kiln.io;

import dev.kiln.Tensor;
import dev.kiln.optim.Adam;
import dev.kiln.optim.Sgd;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Optimizer.stateDict's names and loadStateDict's all-or-nothing checks (the file side is in CheckpointsTest). */
class OptimizerStateTest {
    @Test
    void namesFollowParameterIndexAndPyTorchsStateNames() {
        try (Tensor a = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad(); Tensor b = Tensor.of(new float[] {3f}, 1).requiresGrad();
             Adam adam = new Adam(List.of(a, b), 0.1f); Sgd plain = new Sgd(List.of(a), 0.1f)) {
            assertEquals(Map.of(), adam.stateDict(), "no state before the first step");
            b.setGrad(Tensor.of(new float[] {1f}, 1));
            adam.step();  // only b has a gradient, so only b has state
            assertEquals(List.of("1.exp_avg", "1.exp_avg_sq"), List.copyOf(adam.stateDict().keySet()));
            assertArrayEquals(new float[] {0.1f}, adam.stateDict().get("1.exp_avg").toFloatArray(), 1e-7f);
            plain.step();
            assertEquals(Map.of(), plain.stateDict(), "SGD without momentum keeps nothing");
        }
    }

    @Test
    void loadRefusesBadStateAndChangesNothing() {
        try (Tensor a = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad(); Adam adam = new Adam(List.of(a), 0.1f);
             Tensor two = Tensor.of(new float[] {5f, 6f}, 2); Tensor three = Tensor.zeros(3)) {
            a.setGrad(Tensor.of(new float[] {1f, 1f}, 2));
            adam.step();
            float[] m = adam.stateDict().get("0.exp_avg").toFloatArray();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> adam.loadStateDict(Map.of("0.exp_avg", two, "1.exp_avg", two, "0.momentum", two), 7));
            assertTrue(e.getMessage().startsWith("Adam.loadStateDict: nothing was loaded"), e.getMessage());
            assertTrue(e.getMessage().contains("unexpected '1.exp_avg'"), e.getMessage());
            assertTrue(e.getMessage().contains("unexpected '0.momentum'"), e.getMessage());
            assertTrue(e.getMessage().contains("missing '0.exp_avg_sq'"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> adam.loadStateDict(Map.of("0.exp_avg", three, "0.exp_avg_sq", two), 7));
            assertTrue(e.getMessage().contains("'0.exp_avg' is Tensor(3,)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> adam.loadStateDict(Map.of("00.exp_avg", two, "0.exp_avg_sq", two), 7));
            assertArrayEquals(m, adam.stateDict().get("0.exp_avg").toFloatArray());
            assertEquals(1, adam.steps());

            adam.loadStateDict(Map.of("0.exp_avg", two, "0.exp_avg_sq", two), 7);
            assertArrayEquals(new float[] {5f, 6f}, adam.stateDict().get("0.exp_avg").toFloatArray());
            assertEquals(7, adam.steps());
            adam.loadStateDict(Map.of(), 0);  // a fresh optimizer's state: none
            assertEquals(Map.of(), adam.stateDict());
        }
    }
}

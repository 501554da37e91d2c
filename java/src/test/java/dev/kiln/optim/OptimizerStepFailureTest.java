package dev.kiln.optim;

import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A step refused for a bad gradient changes nothing (no parameter stepped, no count advanced, no state created), so
 * retrying it once the gradient is fixed gives exactly a fresh optimizer's first step.
 */
class OptimizerStepFailureTest {
    private static final float[] A = {0.5f, -1.25f, 2f};
    private static final float[] B = {1f, -0.1f};
    private static final float[] GA = {0.1f, -0.2f, 0.3f};
    private static final float[] GB = {-0.5f, 0.25f};

    @Test
    void adamRefusesAClosedGradientBeforeSteppingAnything() {
        check(ps -> new Adam(ps, 0.01f));
    }

    @Test
    void capturableAdamKeepsItsDeviceCounterToo() {
        check(ps -> new Adam(ps, 0.01f).capturable());
    }

    @Test
    void sgdWithMomentumRefusesAClosedGradientBeforeSteppingAnything() {
        check(ps -> new Sgd(ps, 0.1f, 0.9f, 0.01f, false));
    }

    private static void check(Function<List<Tensor>, Optimizer> make) {
        float[][] expected;
        try (Tensor a = Tensor.of(A, A.length).requiresGrad(); Tensor b = Tensor.of(B, B.length).requiresGrad();
             Optimizer fresh = make.apply(List.of(a, b))) {
            a.setGrad(Tensor.of(GA, GA.length));
            b.setGrad(Tensor.of(GB, GB.length));
            fresh.step();
            expected = new float[][] {a.toFloatArray(), b.toFloatArray()};
        }
        try (Tensor a = Tensor.of(A, A.length).requiresGrad(); Tensor b = Tensor.of(B, B.length).requiresGrad();
             Optimizer opt = make.apply(List.of(a, b))) {
            a.setGrad(Tensor.of(GA, GA.length));
            b.setGrad(Tensor.of(GB, GB.length));
            b.grad().close();
            String who = opt.getClass().getSimpleName();
            IllegalStateException e = assertThrows(IllegalStateException.class, opt::step);
            assertArrayEquals(A, a.toFloatArray(), 0f, "parameter 0 was stepped by a failed step");
            assertArrayEquals(B, b.toFloatArray(), 0f);
            assertEquals(0, opt.steps(), "a failed step was counted");
            if (opt instanceof Adam adam) assertEquals(0, adam.deviceSteps(), "a failed step was counted on the device");
            assertTrue(opt.stateDict().isEmpty(), "state was created by a failed step: " + opt.stateDict().keySet());
            assertTrue(e.getMessage().contains(who + ".step") && e.getMessage().contains("gradient of parameter 1")
                    && e.getMessage().contains("closed") && e.getMessage().contains("nothing was updated"), e.getMessage());
            // A second refusal changes nothing either.
            assertThrows(IllegalStateException.class, opt::step);
            assertEquals(0, opt.steps());

            b.setGrad(Tensor.of(GB, GB.length));
            opt.step();
            assertEquals(1, opt.steps());
            if (opt instanceof Adam adam) assertEquals(1, adam.deviceSteps());
            assertArrayEquals(expected[0], a.toFloatArray(), 0f, "parameter 0 after the retry");
            assertArrayEquals(expected[1], b.toFloatArray(), 0f, "parameter 1 after the retry");
        }
    }

    @Test
    void aClosedParameterOrStateIsRefusedToo() {
        try (Tensor a = Tensor.of(A, A.length).requiresGrad(); Tensor b = Tensor.of(B, B.length).requiresGrad();
             Adam adam = new Adam(List.of(a, b), 0.01f)) {
            a.setGrad(Tensor.of(GA, GA.length));
            b.setGrad(Tensor.of(GB, GB.length));
            adam.step();
            float[] afterOne = a.toFloatArray();
            adam.stateDict().get("1.exp_avg_sq").close();
            IllegalStateException e = assertThrows(IllegalStateException.class, adam::step);
            assertArrayEquals(afterOne, a.toFloatArray(), 0f, "parameter 0 was stepped by a failed step");
            assertEquals(1, adam.steps());
            assertTrue(e.getMessage().contains("'1.exp_avg_sq' is closed"), e.getMessage());
        }
        Tensor a = Tensor.of(A, A.length).requiresGrad();
        try (Tensor b = Tensor.of(B, B.length).requiresGrad(); Sgd sgd = new Sgd(List.of(b, a), 0.1f)) {
            b.setGrad(Tensor.of(GB, GB.length));
            a.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, sgd::step);
            assertTrue(e.getMessage().contains("parameter 1 is closed"), e.getMessage());
            assertArrayEquals(B, b.toFloatArray(), 0f);
            assertEquals(0, sgd.steps());
        }
    }
}

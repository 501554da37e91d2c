package dev.kiln.optim;

import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Three optimizer steps with fixed gradients against a double-precision transcription of the update rules. */
class OptimizerTest {
    private static final float[] P0 = {0.5f, -1.25f, 2f, 0f, -0.1f};
    private static final float[][] GRADS = {{0.1f, -0.2f, 0.3f, 0f, 1f}, {-0.5f, 0.25f, 0.3f, 0.01f, 1f}, {0.2f, 0.2f, -0.1f, -2f, 1f}};

    private static void run(Optimizer opt, Tensor p) {
        for (float[] g : GRADS) {
            p.setGrad(Tensor.of(g, g.length));
            opt.step();
        }
    }

    private static void assertClose(double[] expected, float[] got) {
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], got[i], 1e-6 * (1 + Math.abs(expected[i])), "element " + i);
    }

    @Test
    void sgdWithMomentumNesterovAndWeightDecay() {
        for (boolean nesterov : new boolean[] {false, true}) {
            double lr = 0.1, mu = 0.9, wd = 0.01;
            double[] p = new double[P0.length], v = new double[P0.length];
            for (int i = 0; i < p.length; i++) p[i] = P0[i];
            for (float[] g : GRADS) {
                for (int i = 0; i < p.length; i++) {
                    double gi = g[i] + wd * p[i];
                    v[i] = mu * v[i] + gi;
                    p[i] -= lr * (nesterov ? gi + mu * v[i] : v[i]);
                }
            }
            try (Tensor param = Tensor.of(P0, P0.length).requiresGrad();
                 Sgd sgd = new Sgd(List.of(param), (float) lr, (float) mu, (float) wd, nesterov)) {
                run(sgd, param);
                assertClose(p, param.toFloatArray());
                assertEquals(3, sgd.steps());
            }
        }
    }

    /** Without a schedule and with one (warmup over 2 steps, then a cosine to 0.2 at step 3: factors 0.5, 1, 0.2). */
    @Test
    void adamAndAdamW() {
        for (LrSchedule schedule : List.of(LrSchedule.constant(), LrSchedule.warmupCosine(2, 3, 0.2))) {
            for (boolean decoupled : new boolean[] {false, true}) {
                double b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
                double[] p = new double[P0.length], m = new double[P0.length], v = new double[P0.length];
                for (int i = 0; i < p.length; i++) p[i] = P0[i];
                int t = 0;
                for (float[] g : GRADS) {
                    t++;
                    double lr = 0.01 * (schedule == LrSchedule.constant() ? 1 : new double[] {0.5, 1, 0.2}[t - 1]);
                    for (int i = 0; i < p.length; i++) {
                        double gi = g[i];
                        if (decoupled) p[i] *= 1 - lr * wd;
                        else gi += wd * p[i];
                        m[i] = b1 * m[i] + (1 - b1) * gi;
                        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                        double mh = m[i] / (1 - Math.pow(b1, t)), vh = v[i] / (1 - Math.pow(b2, t));
                        p[i] -= lr * mh / (Math.sqrt(vh) + eps);
                    }
                }
                try (Tensor param = Tensor.of(P0, P0.length).requiresGrad();
                     Adam adam = new Adam(List.of(param), 0.01f, (float) b1, (float) b2, (float) eps, (float) wd, decoupled)) {
                    adam.schedule(schedule);
                    run(adam, param);
                    assertClose(p, param.toFloatArray());
                }
            }
        }
    }

    @Test
    void clipByGlobalNorm() {
        try (Tensor a = Tensor.of(new float[] {3, 0}, 2).requiresGrad(); Tensor b = Tensor.of(new float[] {0, 0, 4}, 3).requiresGrad()) {
            a.setGrad(Tensor.of(new float[] {3, 0}, 2));
            b.setGrad(Tensor.of(new float[] {0, 0, 4}, 3));
            assertEquals(5.0, GradClip.clipGradNorm(List.of(a, b), 10), 1e-6);  // under the limit: untouched
            assertEquals(3f, a.grad().toFloatArray()[0]);
            assertEquals(5.0, GradClip.clipGradNorm(List.of(a, b), 1), 1e-6);
            assertEquals(0.6f, a.grad().toFloatArray()[0], 1e-5f);
            assertEquals(0.8f, b.grad().toFloatArray()[2], 1e-5f);
        }
    }

    @Test
    void badHyperparametersAreRejected() {
        try (Tensor p = Tensor.ones(2).requiresGrad(); Tensor q = Tensor.ones(2)) {
            assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(p), -1f));
            assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(p), 0.1f, 0f, 0f, true));
            assertThrows(IllegalArgumentException.class, () -> new Adam(List.of(p), 0.1f, 1f, 0.9f, 1e-8f, 0f, false));
            // NaN passes a plain `x < 0` check, and one NaN weight decay turns every parameter into NaN at step 1.
            float nan = Float.NaN, inf = Float.POSITIVE_INFINITY;
            for (float bad : new float[] {nan, inf}) {
                assertThrows(IllegalArgumentException.class, () -> new Adam(List.of(p), 0.1f, 0.9f, 0.999f, 1e-8f, bad, true));
                assertThrows(IllegalArgumentException.class, () -> new Adam(List.of(p), bad, 0.9f, 0.999f, 1e-8f, 0f, true));
                assertThrows(IllegalArgumentException.class, () -> new Adam(List.of(p), 0.1f, 0.9f, 0.999f, bad, 0f, true));
                assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(p), 0.1f, bad, 0f, false));
                assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(p), 0.1f, 0f, bad, false));
                assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(p), bad));
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Adam(List.of(q), 0.1f));
            assertEquals(true, e.getMessage().contains("does not require grad"), e.getMessage());
        }
    }
}

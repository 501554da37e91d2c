package dev.kiln.optim;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.models.Mlp;
import dev.kiln.ops.Ops;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Capturable Adam (the step count and bias corrections on the device, for CUDA graphs) against the ordinary form on
 * the CPU: bit for bit, because both compute the corrections by {@link Adam#biasCorrection} (the kernels' rule in
 * kernels/common/optim_math.h) and run the same per-element update.
 */
class AdamCapturableTest {
    private static final int STEPS = 20;

    @Test
    void capturableStepsEqualOrdinarySteps() {
        for (boolean decoupled : new boolean[] {false, true}) {
            float[][] ordinary = train(false, decoupled);
            float[][] capturable = train(true, decoupled);
            for (int i = 0; i < ordinary.length; i++) {
                assertArrayEquals(ordinary[i], capturable[i], 0f, "parameter " + i + " (decoupled=" + decoupled + ")");
            }
        }
    }

    /** The parameters of a small MLP after STEPS Adam steps on fixed random batches. */
    private static float[][] train(boolean capturable, boolean decoupled) {
        Device cpu = Device.cpu();
        Random data = new Random(5);
        try (Mlp model = new Mlp(12, 16, 4, cpu, new Generator(3))) {
            List<Tensor> params = model.parameters();
            Adam adam = new Adam(params, 1e-2f, 0.9f, 0.999f, 1e-8f, decoupled ? 0.05f : 0.01f, decoupled);
            if (capturable) adam.capturable();
            try (adam) {
                for (int step = 0; step < STEPS; step++) {
                    float[] x = new float[8 * 12];
                    int[] y = new int[8];
                    for (int i = 0; i < x.length; i++) x[i] = (float) data.nextGaussian();
                    for (int i = 0; i < y.length; i++) y[i] = data.nextInt(4);
                    try (Scope s = Scope.open()) {
                        Tensor loss = Ops.crossEntropy(model.forward(Tensor.of(cpu, x, 8, 12)), Tensor.ofInts(cpu, y, 8));
                        adam.zeroGrad();
                        loss.backward();
                        adam.step();
                    }
                }
                assertEquals(STEPS, adam.steps());
                assertEquals(STEPS, adam.deviceSteps());
                float[][] out = new float[params.size()][];
                for (int i = 0; i < out.length; i++) out[i] = params.get(i).toFloatArray();
                return out;
            }
        }
    }

    @Test
    void biasCorrectionIsWithinOneUlpOfTheClosedForm() {
        for (float beta : new float[] {0f, 0.5f, 0.9f, 0.99f, 0.999f, 0.9999f}) {
            for (long step : new long[] {1, 2, 3, 10, 1000, 123457, Integer.MAX_VALUE, 1L << 40}) {
                float want = (float) (1.0 - Math.pow(beta, step));
                float got = Adam.biasCorrection(beta, step);
                assertTrue(Math.abs(got - want) <= Math.ulp(want), "beta=" + beta + " step=" + step + ": " + got + " vs " + want);
            }
        }
    }

    @Test
    void loadedStepCountReachesTheDeviceCounter() {
        try (Tensor p = Tensor.of(new float[] {1, 2, 3}, 3).requiresGrad(); Adam adam = new Adam(List.of(p), 0.1f).capturable()) {
            p.setGrad(Tensor.of(new float[] {1, 1, 1}, 3));
            adam.step();
            adam.step();
            assertEquals(2, adam.deviceSteps());
            adam.loadStateDict(adam.stateDict(), 40);
            adam.step();
            assertEquals(41, adam.steps());
            assertEquals(41, adam.deviceSteps());
        }
    }
}

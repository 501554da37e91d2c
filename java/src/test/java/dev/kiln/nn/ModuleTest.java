package dev.kiln.nn;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModuleTest {
    @Test
    void sequentialNamesParametersAndSurvivesScopes() {
        Sequential net;
        try (Scope s = Scope.open()) {  // created inside a scope, parameters must still outlive it
            net = new Sequential(new Linear(4, 3, Device.cpu(), new Generator(1)), Activation.relu(),
                    new Dropout(0.5f, new Generator(2)), new Linear(3, 2, false, Device.cpu(), new Generator(3)));
        }
        try (net) {
            assertEquals(List.of("0.weight", "0.bias", "3.weight"), List.copyOf(net.namedParameters().keySet()));
            assertEquals(4 * 3 + 3 + 3 * 2, net.parameterCount());
            for (Tensor p : net.parameters()) {
                assertFalse(p.isClosed());
                assertTrue(p.isRequiresGrad());
            }
            net.eval();
            for (Module m : net.layers()) assertFalse(m.isTraining());
            try (Scope s = Scope.open()) {
                assertArrayEquals(new int[] {5, 2}, net.forward(Tensor.ones(5, 4)).shape());
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> net.forward(Tensor.ones(5, 3)));
                assertTrue(e.getMessage().contains("Linear(4 -> 3)"), e.getMessage());
            }
        }
        for (Tensor p : net.parameters()) assertTrue(p.isClosed());
    }

    /** One layer in two places: its parameters listed once, so an optimizer steps and a clip scales them once. */
    @Test
    void aSharedLayerIsSteppedAndClippedOnce() {
        try (Linear lin = new Linear(2, 2, false, Device.cpu(), new Generator(1));
             Sequential net = new Sequential(lin, Activation.relu(), lin)) {
            assertEquals(List.of("0.weight"), List.copyOf(net.namedParameters().keySet()));
            assertEquals(List.of("0.weight", "2.weight"), List.copyOf(net.stateDict().keySet()), "the state dict names both");
            assertEquals(4, net.parameterCount());
            float[] before = lin.weight().toFloatArray();
            lin.weight().setGrad(Scope.detached(() -> Tensor.of(new float[] {3, 0, 0, 4}, 2, 2)));
            assertEquals(5.0, dev.kiln.optim.GradClip.clipGradNorm(List.of(lin.weight(), lin.weight()), 1.0), 1e-6,
                    "the norm counts the gradient once");
            assertArrayEquals(new float[] {0.6f, 0, 0, 0.8f}, lin.weight().grad().toFloatArray(), 1e-5f, "scaled once");
            try (dev.kiln.optim.Sgd sgd = new dev.kiln.optim.Sgd(net.parameters(), 1f)) {
                sgd.step();
            }
            float[] after = lin.weight().toFloatArray();
            assertArrayEquals(new float[] {before[0] - 0.6f, before[1], before[2], before[3] - 0.8f}, after, 1e-5f, "stepped once");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new dev.kiln.optim.Sgd(List.of(lin.weight(), lin.weight()), 1f));
            assertTrue(e.getMessage().contains("in the list twice"), e.getMessage());
        }
    }

    @Test
    void stateDictNamesParametersThenBuffersInPyTorchOrder() {
        try (Sequential net = new Sequential(new Linear(3, 4, Device.cpu(), new Generator(1)), new BatchNorm2d(4, Device.cpu()),
                Activation.relu())) {
            assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"),
                    List.copyOf(net.stateDict().keySet()));
            assertEquals(List.of("1.running_mean", "1.running_var"), List.copyOf(net.namedBuffers().keySet()));
            assertEquals(4, net.parameters().size(), "buffers are not parameters");
            assertFalse(net.namedBuffers().get("1.running_var").isRequiresGrad());
        }
    }

    @Test
    void loadStateDictCopiesEveryParameterAndBuffer() {
        try (Sequential a = bnNet(11); Sequential b = bnNet(12); Scope s = Scope.open()) {
            Tensor x = Tensor.randn(new Generator(3), Device.cpu(), 8, 3);
            a.forward(x);  // training mode: updates a's running statistics, so the buffers differ from b's
            a.eval();
            b.eval();
            float[] expected = a.forward(x).toFloatArray();
            assertFalse(java.util.Arrays.equals(expected, b.forward(x).toFloatArray()));
            b.loadStateDict(a.stateDict());
            assertArrayEquals(expected, b.forward(x).toFloatArray());
            for (String name : a.stateDict().keySet()) {
                assertArrayEquals(a.stateDict().get(name).toFloatArray(), b.stateDict().get(name).toFloatArray(), name);
                assertNotSame(a.stateDict().get(name), b.stateDict().get(name));
            }
        }
    }

    @Test
    void loadStateDictRefusesMismatchesAndLoadsNothing() {
        try (Sequential a = bnNet(21); Sequential b = bnNet(22); Linear other = new Linear(3, 5, Device.cpu(), new Generator(4))) {
            float[] before = b.stateDict().get("0.weight").toFloatArray();
            Map<String, Tensor> state = new LinkedHashMap<>(a.stateDict());
            state.remove("1.running_var");
            state.put("2.weight", a.stateDict().get("0.bias"));
            state.put("0.bias", other.bias());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(state));
            String m = e.getMessage();
            assertTrue(m.contains("missing '1.running_var'") && m.contains("unexpected '2.weight'") && m.contains("'0.bias'")
                    && m.contains("(5,)") && m.contains("nothing was loaded"), m);
            assertArrayEquals(before, b.stateDict().get("0.weight").toFloatArray(), "a refused load changes nothing");
        }
    }

    private static Sequential bnNet(long seed) {
        return new Sequential(new Linear(3, 4, Device.cpu(), new Generator(seed)), new BatchNorm2d(4, Device.cpu()));
    }

    @Test
    void sameSeedSameModelDifferentSeedDifferentModel() {
        try (Linear a = new Linear(33, 7, Device.cpu(), new Generator(5));
             Linear b = new Linear(33, 7, Device.cpu(), new Generator(5));
             Linear c = new Linear(33, 7, Device.cpu(), new Generator(6))) {
            assertArrayEquals(a.weight().toFloatArray(), b.weight().toFloatArray());
            assertArrayEquals(a.bias().toFloatArray(), b.bias().toFloatArray());
            assertNotEquals(a.weight().toFloatArray()[0], c.weight().toFloatArray()[0]);
            float bound = (float) (1 / Math.sqrt(33));
            for (float w : a.weight().toFloatArray()) assertTrue(Math.abs(w) <= bound);
        }
    }

    @Test
    void initializersHaveTheirVariance() {
        try (Tensor t = Tensor.empty(Device.cpu(), 200, 500)) {
            Init.kaimingNormal(t, 500, Init.reluGain(), new Generator(7));
            assertEquals(Math.sqrt(2.0 / 500), std(t.toFloatArray()), 0.002);
            Init.xavierUniform(t, 500, 200, 1f, new Generator(8));
            assertEquals(Math.sqrt(2.0 / 700), std(t.toFloatArray()), 0.002);  // U(-b, b) has std b / sqrt(3)
            Init.kaimingUniform(t, 500, 1f, new Generator(9));
            assertEquals(Math.sqrt(1.0 / 500), std(t.toFloatArray()), 0.002);
            Init.xavierNormal(t, 500, 200, 1f, new Generator(10));
            assertEquals(Math.sqrt(2.0 / 700), std(t.toFloatArray()), 0.002);
        }
    }

    private static double std(float[] x) {
        double m = 0, v = 0;
        for (float f : x) m += f;
        m /= x.length;
        for (float f : x) v += (f - m) * (f - m);
        return Math.sqrt(v / x.length);
    }
}

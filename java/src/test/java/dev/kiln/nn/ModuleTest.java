package dev.kiln.nn;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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

package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The seed check of backward, gradients through reshape and view, and the NoGrad guard. */
class AutogradRegressionTest {
    @Test
    void aSeedOfAnotherDtypeIsRefusedNamingBoth() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensor.of(new float[] {2}, 1).requiresGrad();
            Tensor y = Ops.mul(w, w);
            Tensor seed = Tensor.ofInts(Device.cpu(), new int[] {1}, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Autograd.backward(y, seed));
            assertTrue(e.getMessage().contains("i32") && e.getMessage().contains("f32"), e.getMessage());
            assertNull(w.grad());
            assertEquals(DType.F32, y.dtype());
        }
    }

    @Test
    void aSeedOfAnotherShapeIsRefused() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensor.ones(3).requiresGrad();
            Tensor y = Ops.relu(w);
            assertThrows(IllegalArgumentException.class, () -> Autograd.backward(y, Tensor.ones(4)));
        }
    }

    @Test
    void reshapeOfATrackedTensorPassesTheGradientBack() {
        try (Scope s = Scope.open()) {
            float[] xs = {1, -2, 3, 0.5f, 4, -1};
            float[] cs = {0.5f, 2, -1, 3, 0.25f, -4};
            Tensor x = Tensor.of(xs, 2, 3).requiresGrad();
            Tensor c = Tensor.of(cs, 3, 2);
            // d/dx sum(reshape(x) * c) = c, laid back out in x's shape (same row-major order)
            Ops.sum(Ops.mul(x.reshape(3, 2), c)).backward();
            assertArrayEquals(cs, x.grad().toFloatArray());
            assertArrayEquals(new int[] {2, 3}, x.grad().shape());

            // d/dx sum(view(x)^2) = 2x, through the fluent methods
            x.zeroGrad();
            Tensor v = x.view(6);
            v.mul(v).sum().backward();
            float[] g = x.grad().toFloatArray();
            for (int i = 0; i < xs.length; i++) assertEquals(2 * xs[i], g[i], 0f);

            // flatten records too: d/dx mean(flatten(x) * 3) = 3 / 6
            x.zeroGrad();
            Ops.mean(Ops.scale(x.flatten(), 3f)).backward();
            for (float gi : x.grad().toFloatArray()) assertEquals(0.5f, gi, 1e-7f);
        }
    }

    @Test
    void viewsOfUntrackedTensorsRecordNothing() {
        try (Scope s = Scope.open(); Tensor t = Tensor.ones(2, 3)) {
            Tensor v = t.view(3, 2);
            assertEquals(0, Autograd.tapeSize());
            assertFalse(Autograd.isTracked(v));
        }
    }

    @Test
    void noGradGuardNeedsNoCatch() {
        try (Scope s = Scope.open(); Tensor w = Tensor.ones(2).requiresGrad()) {
            try (var off = Autograd.noGrad()) {  // compiles without a catch: NoGrad.close() throws nothing checked
                assertFalse(Autograd.isGradEnabled());
                Ops.relu(w);
                assertEquals(0, Autograd.tapeSize());
            }
            assertTrue(Autograd.isGradEnabled());
            NoGrad guard = Autograd.noGrad();
            guard.close();
            guard.close();  // idempotent: the depth is released once
            assertTrue(Autograd.isGradEnabled());
        }
    }
}

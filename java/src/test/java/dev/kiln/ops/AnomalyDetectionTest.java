// Anomaly mode: the first op whose output or gradient holds a NaN or an infinity is named, forward or backward.
package dev.kiln.ops;

import dev.kiln.KilnAnomalyException;
import dev.kiln.KilnException;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AnomalyDetectionTest {
    /** y = sum(tanh(x W^T) / d) with d holding a zero: the division is the first op to make an infinity. */
    private static Tensor graphWithADivisionByZero(Tensor x, Tensor w) {
        Tensor h = Ops.tanh(Ops.linear(x, w, null));                       // (2, 3), finite
        Tensor d = Tensor.of(new float[] {1f, 0f, 2f}, 3);                 // broadcast over rows
        Tensor q = Ops.div(h, d);                                          // column 1: +-Infinity
        return Ops.sum(Ops.relu(q));                                       // relu and sum pass it on
    }

    @Test
    void forwardAnomalyNamesTheFirstOpAndItsInputShapes() {
        try (Scope s = Scope.open(); AnomalyMode on = Autograd.detectAnomaly()) {
            Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
            Tensor w = Tensor.of(new float[] {0.5f, -1, 0.25f, 0.75f, -0.5f, 1}, 3, 2).requiresGrad();
            KilnAnomalyException e = assertThrows(KilnAnomalyException.class, () -> graphWithADivisionByZero(x, w));
            assertEquals("div", e.op());
            assertEquals(KilnAnomalyException.Phase.FORWARD, e.phase());
            assertEquals(2, e.inputShapes().size());
            assertArrayEquals(new int[] {2, 3}, e.inputShapes().get(0));
            assertArrayEquals(new int[] {3}, e.inputShapes().get(1));
            assertTrue(e.getMessage().contains("forward of 'div'") && e.getMessage().contains("(2, 3)")
                    && e.getMessage().contains("(3,)") && e.getMessage().contains("Infinity"), e.getMessage());
            assertInstanceOf(KilnException.class, e);
        }
        assertFalse(Autograd.isAnomalyDetectionEnabled(), "the guard restores the previous setting");
        assertEquals(0, Autograd.tapeSize());
    }

    @Test
    void aNaNMadeInsideTheGraphIsCaughtWhereItIsMade() {
        // 0 / 0: the NaN appears in div even though both operands are finite; the message says none was NaN before.
        try (Scope s = Scope.open(); AnomalyMode on = Autograd.detectAnomaly()) {
            Tensor a = Tensor.of(new float[] {0f, 1f}, 2).requiresGrad();
            Tensor b = Ops.sub(a, a);
            KilnAnomalyException e = assertThrows(KilnAnomalyException.class, () -> Ops.div(b, b));
            assertEquals("div", e.op());
            assertTrue(e.getMessage().contains("NaN") && !e.getMessage().contains("already"), e.getMessage());
        }
    }

    @Test
    void aNonFiniteInputFromOutsideIsBlamedOnTheFirstOpThatReadsIt() {
        try (Scope s = Scope.open(); AnomalyMode on = Autograd.detectAnomaly()) {
            Tensor x = Tensor.of(new float[] {1f, Float.NaN, 3f}, 3);
            KilnAnomalyException e = assertThrows(KilnAnomalyException.class, () -> Ops.scale(x, 2f));
            assertEquals("scale", e.op());
            assertTrue(e.getMessage().contains("input(s) [0] were already non-finite"), e.getMessage());
        }
    }

    @Test
    void backwardAnomalyNamesTheNodeWhoseGradientIsNotFinite() {
        try (Scope s = Scope.open(); AnomalyMode on = Autograd.detectAnomaly()) {
            Tensor x = Tensor.of(new float[] {0f, 4f}, 2).requiresGrad();
            // A square root recorded by hand: its derivative 1 / (2 sqrt(x)) is infinite at 0, its value is not.
            Tensor root = Tensor.of(new float[] {0f, 2f}, 2);
            Tensor y = Autograd.record("sqrt", root, dy -> {
                float[] g = dy.toFloatArray(), xv = x.toFloatArray();
                for (int i = 0; i < g.length; i++) g[i] /= 2 * (float) Math.sqrt(xv[i]);
                return new Tensor[] {Tensor.of(g, 2)};
            }, x);
            Tensor loss = Ops.sum(Ops.scale(y, 3f));  // forward is finite: the anomaly must come from the backward
            KilnAnomalyException e = assertThrows(KilnAnomalyException.class, loss::backward);
            assertEquals("sqrt", e.op());
            assertEquals(KilnAnomalyException.Phase.BACKWARD, e.phase());
            assertArrayEquals(new int[] {2}, e.inputShapes().get(0));
            assertTrue(e.getMessage().contains("backward of 'sqrt'") && e.getMessage().contains("gradient for input 0")
                    && e.getMessage().contains("Infinity"), e.getMessage());
            assertNull(x.grad(), "nothing reached the leaf");
            assertEquals(0, Autograd.tapeSize(), "a failed backward drops the tape");
        }
    }

    @Test
    void offByDefaultAndOffMeansNoException() {
        assertFalse(Autograd.isAnomalyDetectionEnabled());
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
            Tensor w = Tensor.of(new float[] {0.5f, -1, 0.25f, 0.75f, -0.5f, 1}, 3, 2).requiresGrad();
            Tensor loss = graphWithADivisionByZero(x, w);
            assertEquals(Float.POSITIVE_INFINITY, loss.item());  // IEEE: the infinity propagates, nothing throws
            loss.backward();
            assertTrue(Float.isNaN(w.grad().toFloatArray()[2]) || Float.isInfinite(w.grad().toFloatArray()[2]));
        }
        // The boolean form, and a guard nested inside it.
        assertFalse(Autograd.detectAnomaly(true));
        try {
            try (AnomalyMode again = Autograd.detectAnomaly()) {
                assertTrue(Autograd.isAnomalyDetectionEnabled());
            }
            assertTrue(Autograd.isAnomalyDetectionEnabled(), "the guard restores 'on'");
        } finally {
            assertTrue(Autograd.detectAnomaly(false));
        }
    }

    @Test
    void theModeIsPerThread() throws Exception {
        try (AnomalyMode on = Autograd.detectAnomaly()) {
            boolean[] seen = new boolean[1];
            Thread t = new Thread(() -> seen[0] = Autograd.isAnomalyDetectionEnabled());
            t.start();
            t.join();
            assertFalse(seen[0], "another thread is not in anomaly mode");
            try (Scope s = Scope.open()) {
                Tensor finite = Ops.tanh(Ops.matmul(Tensor.ones(2, 3), Tensor.ones(3, 2)));
                assertEquals(4, finite.numel(), "finite results pass");
            }
        }
    }
}

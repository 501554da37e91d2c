package dev.kiln.ops;

import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A backward re-reads its operands from live tensors: closing one between forward and backward gives an exception
 * naming the op and the argument. Before, the closures kept raw addresses, and with the device cache emptied the
 * kernel read freed memory (a SIGSEGV in the JVM).
 */
class ClosedOperandTest {
    @Test
    void batchNormGammaClosedBeforeBackward() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.randn(4, 3, 5, 5).requiresGrad();
            Tensor gamma = Tensor.ones(3).requiresGrad(), beta = Tensor.zeros(3).requiresGrad();
            Tensor loss = Ops.sum(Ops.mul(Ops.batchNorm(x, gamma, beta, null, null, true, 0.1f, 1e-5f), x));
            gamma.close();
            Device.cpu().emptyCache();
            IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
            assertTrue(e.getMessage().contains("batch_norm") && e.getMessage().contains("'gamma'"), e.getMessage());
            assertEquals(0, Autograd.tapeSize());
        }
    }

    @Test
    void convWeightClosedBeforeBackward() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.randn(2, 3, 8, 8).requiresGrad();
            Tensor w = Tensor.randn(4, 3, 3, 3).requiresGrad(), b = Tensor.zeros(4).requiresGrad();
            Tensor loss = Ops.sum(Ops.relu(Ops.conv2d(x, w, b, 1, 1)));
            w.close();
            Device.cpu().emptyCache();
            IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
            assertTrue(e.getMessage().contains("conv2d") && e.getMessage().contains("'weight'"), e.getMessage());
            assertEquals(0, Autograd.tapeSize());
        }
    }

    @Test
    void aLeafClosedBeforeItsGradientArrivesIsNamed() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensor.ones(3).requiresGrad();
            Tensor loss = Ops.sum(Ops.scale(w, 2f));  // scale's backward reads only dy: the leaf itself is what is closed
            w.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
            assertTrue(e.getMessage().contains("closed before backward()"), e.getMessage());
        }
    }
}

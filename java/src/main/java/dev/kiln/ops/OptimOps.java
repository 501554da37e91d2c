package dev.kiln.ops;

import dev.kiln.Tensor;
import dev.kiln.internal.OptimNative;

/** The fused optimizer updates, in place and not recorded: one kernel per parameter tensor. */
final class OptimOps {
    private OptimOps() {
    }

    /**
     * One SGD step on {@code param} (PyTorch semantics, dampening 0): g = grad + weightDecay param;
     * velocity = momentum velocity + g; param -= lr (nesterov ? g + momentum velocity : velocity). velocity may be
     * null when momentum is 0.
     */
    @Op
    static void sgdStep_(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay,
                         boolean nesterov) {
        String op = "sgd_step_";
        Checks.like(op, "grad", grad, "param", param);
        if (velocity != null) Checks.like(op, "velocity", velocity, "param", param);
        Autograd.modifiedInPlace(param, velocity);
        OptimNative.sgdStep(param, grad, velocity, lr, momentum, weightDecay, nesterov);
    }

    /**
     * One Adam step on {@code param} with moments m and v (AdamW when decoupled); biasCorrection{1,2} are
     * 1 - beta{1,2}^step.
     */
    @Op
    static void adamStep_(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                          float weightDecay, boolean decoupled, float biasCorrection1, float biasCorrection2) {
        String op = "adam_step_";
        Checks.like(op, "grad", grad, "param", param);
        Checks.like(op, "m", m, "param", param);
        Checks.like(op, "v", v, "param", param);
        Autograd.modifiedInPlace(param, m, v);
        OptimNative.adamStep(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, biasCorrection1,
                biasCorrection2);
    }

    /**
     * Capturable Adam's counter, once per optimizer step: {@code step} (1) i32 += 1 on the device, and
     * {@code biasCorrections} (2) f32 = {1 - beta1^step, 1 - beta2^step}, by the rule of
     * {@link dev.kiln.optim.Adam#biasCorrection}. Not recorded.
     */
    @Op
    static void adamAdvanceStep_(Tensor step, Tensor biasCorrections, float beta1, float beta2) {
        String op = "adam_advance_step_";
        if (step == null || biasCorrections == null)
            throw new IllegalArgumentException(op + ": step and biasCorrections must not be null");
        if (!step.device().equals(biasCorrections.device()))
            throw new IllegalArgumentException(op + ": step is on " + step.device() + " but biasCorrections on "
                    + biasCorrections.device());
        OptimNative.adamAdvanceStep(step, biasCorrections, beta1, beta2);
    }

    /**
     * {@link #adamStep_} with the bias corrections read on the device from {@code biasCorrections} (2), as
     * {@link #adamAdvanceStep_} wrote them: a step a CUDA graph can replay. Not recorded.
     */
    @Op
    static void adamStepCapturable_(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                    float eps, float weightDecay, boolean decoupled, Tensor biasCorrections) {
        String op = "adam_step_capturable_";
        Checks.like(op, "grad", grad, "param", param);
        Checks.like(op, "m", m, "param", param);
        Checks.like(op, "v", v, "param", param);
        Autograd.modifiedInPlace(param, m, v);
        OptimNative.adamStepCapturable(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled,
                biasCorrections);
    }
}

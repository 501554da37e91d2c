package dev.kiln.internal;

import dev.kiln.Tensor;

/**
 * Binding of the fused optimizer steps (natives bound to kiln.h by NativeLibrary.bindAbi): one pass over all of a
 * parameter tensor, its gradient and its state. Not public API.
 */
public final class OptimNative {
    private OptimNative() {
    }

    static {
        NativeLibrary.bindAbi(OptimNative.class);
    }

    /** SGD with momentum (PyTorch semantics); velocity may be null only when momentum is 0. */
    public static void sgdStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay,
                               boolean nesterov) {
        if (velocity == null && momentum != 0f) throw new IllegalArgumentException("sgd_step: momentum needs a velocity");
        Call c = new Call("sgd_step");
        long n = param == null ? 0 : param.numel(), pa = c.f32Updated("param", param, n), ga = c.f32("grad", grad, n);
        long va = velocity == null ? 0 : c.f32Updated("velocity", velocity, n);
        kiln_sgd_step_f32(c.context(), pa, ga, va, n, lr, momentum, weightDecay, nesterov ? 1 : 0);
        c.fence();
    }

    /** Adam, or AdamW when decoupled; biasCorrection{1,2} = 1 - beta{1,2}^step. */
    public static void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                float eps, float weightDecay, boolean decoupled, float biasCorrection1,
                                float biasCorrection2) {
        Call c = new Call("adam_step");
        long n = param == null ? 0 : param.numel(), pa = c.f32Updated("param", param, n), ga = c.f32("grad", grad, n);
        long ma = c.f32Updated("m", m, n), va = c.f32Updated("v", v, n);
        kiln_adam_step_f32(c.context(), pa, ga, ma, va, n, lr, beta1, beta2, eps, weightDecay, decoupled ? 1 : 0, biasCorrection1,
                biasCorrection2);
        c.fence();
    }

    /**
     * Capturable Adam's once-per-step counter: step (1, i32) += 1 and biasCorrections (2, f32) =
     * {1 - beta1^step, 1 - beta2^step}, on the device.
     */
    public static void adamAdvanceStep(Tensor step, Tensor biasCorrections, float beta1, float beta2) {
        Call c = new Call("adam_advance_step");
        long sa = c.i32("step", step, 1), ba = c.f32("bias_corrections", biasCorrections, 2);
        kiln_adam_advance_step(c.context(), sa, ba, beta1, beta2);
        c.fence();
    }

    /** Adam with the bias corrections read from {@code biasCorrections} (2) on the device. */
    public static void adamStepCapturable(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1,
                                          float beta2, float eps, float weightDecay, boolean decoupled,
                                          Tensor biasCorrections) {
        Call c = new Call("adam_step_capturable");
        long n = param == null ? 0 : param.numel(), pa = c.f32Updated("param", param, n), ga = c.f32("grad", grad, n);
        long ma = c.f32Updated("m", m, n), va = c.f32Updated("v", v, n);
        long ba = c.f32("bias_corrections", biasCorrections, 2);
        kiln_adam_step_capturable_f32(c.context(), pa, ga, ma, va, n, lr, beta1, beta2, eps, weightDecay, decoupled ? 1 : 0, ba);
        c.fence();
    }

    // ---- natives: C ABI entries of kiln.h, bound by NativeLibrary.bindAbi (native/src/jni/jni_abi.cpp) --------------

    private static native void kiln_sgd_step_f32(long ctx, long param, long grad, long velocity, long n, float lr,
                                                 float momentum, float weightDecay, int nesterov);
    private static native void kiln_adam_step_f32(long ctx, long param, long grad, long m, long v, long n, float lr,
                                                  float beta1, float beta2, float eps, float weightDecay, int decoupled,
                                                  float biasCorrection1, float biasCorrection2);
    private static native void kiln_adam_advance_step(long ctx, long step, long biasCorrections, float beta1,
                                                      float beta2);
    private static native void kiln_adam_step_capturable_f32(long ctx, long param, long grad, long m, long v, long n,
                                                             float lr, float beta1, float beta2, float eps,
                                                             float weightDecay, int decoupled, long biasCorrections);
}

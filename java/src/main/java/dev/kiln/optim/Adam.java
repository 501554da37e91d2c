package dev.kiln.optim;

import dev.kiln.CudaGraph;
import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

import java.util.List;

/**
 * Adam (Kingma and Ba) with bias correction; {@link #adamW} gives the decoupled weight decay of Loshchilov and
 * Hutter, {@link #Adam(List, float)} the plain defaults (betas 0.9, 0.999, eps 1e-8, no decay).
 *
 * <p>{@link #capturable()} keeps the step count on the device (an i32 counter and the two bias corrections, advanced
 * by one kernel per step), so a {@link CudaGraph} that captured a step replays a counting step rather than the
 * captured step's bias corrections again. Its results are the bits of the ordinary form: both compute the
 * corrections by {@link #biasCorrection}.
 */
public class Adam extends Optimizer {
    private final float lr;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final boolean decoupled;
    private boolean capturable;
    private Tensor deviceStep;       // (1) i32, the steps taken, on the parameters' device (capturable only)
    private Tensor biasCorrections;  // (2) f32, {1 - beta1^step, 1 - beta2^step} of the step being taken

    /** Adam with learning rate {@code lr} and the defaults: betas 0.9, 0.999, eps 1e-8, no weight decay. */
    public Adam(List<Tensor> params, float lr) {
        this(params, lr, 0.9f, 0.999f, 1e-8f, 0f, false);
    }

    /**
     * Adam with every setting: lr and eps positive, betas in [0, 1), weightDecay non-negative (all finite), added to
     * the gradient (L2) or, when {@code decoupled}, applied to the parameter directly (AdamW).
     */
    public Adam(List<Tensor> params, float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled) {
        super(params);
        if (!positive(lr) || !(beta1 >= 0f && beta1 < 1f) || !(beta2 >= 0f && beta2 < 1f) || !positive(eps)
                || !nonNegative(weightDecay)) {
            throw new IllegalArgumentException("Adam: needs finite lr > 0, betas in [0, 1), finite eps > 0, finite "
                    + "weightDecay >= 0; got lr=" + lr
                    + " betas=(" + beta1 + ", " + beta2 + ") eps=" + eps + " weightDecay=" + weightDecay);
        }
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
    }

    /** AdamW: decoupled weight decay (default 0.01 in PyTorch). */
    public static Adam adamW(List<Tensor> params, float lr, float weightDecay) {
        return new Adam(params, lr, 0.9f, 0.999f, 1e-8f, weightDecay, true);
    }

    /**
     * Makes this optimizer capturable by a {@link CudaGraph}: the step count and bias corrections live on the
     * device (all parameters must be on one device). May be called at any point; the device counter starts from
     * {@link #steps()}. Returns this.
     */
    public Adam capturable() {
        Device device = params.get(0).device();
        for (Tensor p : params) {
            if (!p.device().equals(device)) {
                throw new IllegalArgumentException("Adam.capturable: the parameters are on " + device + " and "
                        + p.device() + "; a device-side step count needs them on one device");
            }
        }
        capturable = true;
        return this;
    }

    /** Whether {@link #capturable()} has been called. */
    public boolean isCapturable() {
        return capturable;
    }

    /**
     * Steps counted on the device (reads it; replays of a captured step included), or {@link #steps()} when this
     * optimizer is not capturable or has not stepped since it became so.
     */
    public long deviceSteps() {
        return deviceStep == null ? steps() : deviceStep.toIntArray()[0];
    }

    /** {@link #deviceSteps()}: a checkpoint of a capturable Adam saves the replays of its captured step too. */
    @Override
    public long stateSteps() {
        return deviceSteps();
    }

    /**
     * 1 - beta^step rounded to float, with beta^step by square-and-multiply in double: the rule of
     * {@code kiln_adam_bias_correction} in kernels/common/optim_math.h, operation for operation, so the corrections
     * computed here and those the capturable form computes on the device are the same bits.
     */
    public static float biasCorrection(float beta, long step) {
        double base = beta, power = 1.0;
        for (long e = step; e > 0; e >>= 1) {
            if ((e & 1) != 0) power *= base;
            base *= base;
        }
        return (float) (1.0 - power);
    }

    @Override
    protected void checkStep() {
        if (!capturable && CudaGraph.isCapturing(params.get(0).device())) {
            throw new IllegalStateException("Adam: its bias corrections (1 - beta^step) are kernel arguments, which "
                    + "a CUDA graph would replay unchanged at every step; use new Adam(...).capturable() for a "
                    + "captured step");
        }
    }

    @Override
    protected void beginStep(long step) {
        if (!capturable) return;
        if (deviceStep == null) {
            // Both or neither: a counter without its corrections would fail every later step.
            Device device = params.get(0).device();
            int taken = (int) Math.min(step - 1, Integer.MAX_VALUE);
            Tensor counter = Scope.detached(() -> Tensor.ofInts(device, new int[] {taken}, 1)), corrections;
            try {
                corrections = Scope.detached(() -> Tensor.zeros(device, 2));
            } catch (RuntimeException | Error e) {
                counter.close();
                throw e;
            }
            deviceStep = counter;
            biasCorrections = corrections;
        }
        Ops.adamAdvanceStep_(deviceStep, biasCorrections, beta1, beta2);
    }

    @Override
    protected void stepsLoaded(long steps) {
        // In place: a graph captured with this counter keeps counting from the loaded value.
        if (deviceStep != null) deviceStep.copyFrom(new int[] {(int) Math.min(steps, Integer.MAX_VALUE)}, 0, 0, 1);
    }

    @Override
    public void close() {
        super.close();
        if (deviceStep != null) deviceStep.close();
        if (biasCorrections != null) biasCorrections.close();
        deviceStep = null;
        biasCorrections = null;
    }

    /** m and v per parameter, under PyTorch's names. */
    @Override
    protected List<String> stateNames() {
        return List.of("exp_avg", "exp_avg_sq");
    }

    @Override
    protected void update(Tensor param, Tensor grad, long step) {
        Tensor[] s = state(param, 2);
        if (capturable) {
            Ops.adamStepCapturable_(param, grad, s[0], s[1], scheduled(lr), beta1, beta2, eps, weightDecay, decoupled,
                    biasCorrections);
            return;
        }
        Ops.adamStep_(param, grad, s[0], s[1], scheduled(lr), beta1, beta2, eps, weightDecay, decoupled,
                biasCorrection(beta1, step), biasCorrection(beta2, step));
    }
}

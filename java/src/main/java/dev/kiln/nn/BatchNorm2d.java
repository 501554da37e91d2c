package dev.kiln.nn;

import dev.kiln.Device;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

/**
 * Batch normalization per channel of (N, C, H, W) (or (N, C)): batch statistics in training, running statistics
 * (momentum 0.1, unbiased variance, as PyTorch) in evaluation; learnable scale (1) and shift (0). Gradients flow in
 * both modes: in evaluation the running statistics are constants, so a frozen-statistics fine-tune still trains the
 * scale and shift and passes gradients to earlier layers. The running statistics are buffers ("running_mean",
 * "running_var"): saved in the state dict, never trained.
 */
public final class BatchNorm2d extends Layer {
    private final Tensor gamma;
    private final Tensor beta;
    private final Tensor runningMean;
    private final Tensor runningVar;
    private final float momentum;
    private final float eps;

    /** {@code channels} channels on {@code device}, with momentum 0.1 and eps 1e-5. */
    public BatchNorm2d(int channels, Device device) {
        this(channels, 0.1f, 1e-5f, device);
    }

    /**
     * {@code channels} channels on {@code device}; {@code momentum} (in [0, 1]) weights each new batch in the running
     * statistics, {@code eps} (positive) is added to the variance.
     */
    public BatchNorm2d(int channels, float momentum, float eps, Device device) {
        // Checked here, where the mistake is made, rather than at the first training step.
        if (channels < 1) throw new IllegalArgumentException("BatchNorm2d: channels must be >= 1, got " + channels);
        if (!(momentum >= 0f && momentum <= 1f)) throw new IllegalArgumentException("BatchNorm2d: momentum must be in [0, 1], got " + momentum);
        if (!(eps > 0f) || Float.isInfinite(eps)) throw new IllegalArgumentException("BatchNorm2d: eps must be positive and finite, got " + eps);
        this.momentum = momentum;
        this.eps = eps;
        gamma = registerParameter("weight", () -> Tensor.ones(device, channels));
        beta = registerParameter("bias", () -> Tensor.zeros(device, channels));
        runningMean = registerBuffer("running_mean", () -> Tensor.zeros(device, channels));
        runningVar = registerBuffer("running_var", () -> Tensor.ones(device, channels));
    }

    /** The running mean buffer (C), live: updated in place by each training-mode forward. */
    public Tensor runningMean() {
        return runningMean;
    }

    /** The running variance buffer (C), live: updated in place by each training-mode forward. */
    public Tensor runningVar() {
        return runningVar;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Ops.batchNorm(x, gamma, beta, runningMean, runningVar, isTraining(), momentum, eps);
    }

    @Override
    public String toString() {
        return "BatchNorm2d(" + gamma.dim(0) + ")";
    }
}

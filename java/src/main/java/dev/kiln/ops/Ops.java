package dev.kiln.ops;

import dev.kiln.Generator;
import dev.kiln.Tensor;

import java.util.List;

/**
 * The functional ops. Each checks its arguments in Java (a bad call fails here with the op, the argument and the
 * shapes, before anything crosses JNI), allocates its result in the current {@link dev.kiln.Scope}, runs on the
 * device of its inputs, and records its backward on the autograd tape when an input is tracked.
 *
 * <p>Broadcasting in the binary ops is over leading dimensions: one operand's shape must equal the trailing
 * dimensions of the other's (a bias of shape (C) against (N, C)), or have a single element.
 *
 * <p>The methods ending in {@code _} work in place on their first tensor argument (the second for {@link #axpy_})
 * and are never recorded on the tape: initialization, zeroing, copies, optimizer updates.
 */
public final class Ops {
    private Ops() {
    }

    // ---- linear algebra ------------------------------------------------------------------------------------------

    /** (M, K) x (K, N), (..., M, K) x (K, N), or batched (B, M, K) x (B, K, N). */
    public static Tensor matmul(Tensor a, Tensor b) {
        return GemmOps.matmul(a, b, false, false);
    }

    /** As {@link #matmul(Tensor, Tensor)} with the last two dimensions of a and/or b transposed. */
    public static Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB) {
        return GemmOps.matmul(a, b, transA, transB);
    }

    /** x (..., in) times weight (out, in) transposed, plus bias (out) if not null: the affine map of a Linear layer. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        // Checked under linear's own names first: the matmul and add inside would name their operands 'a' and 'b'.
        Checks.f32("linear", "x", x);
        Checks.f32("linear", "weight", weight);
        if (bias != null) Checks.f32("linear", "bias", bias);
        Checks.minRank("linear", "x", x, 1);
        if (weight.rank() != 2 || weight.dim(1) != x.dim(-1) || (bias != null && (bias.rank() != 1 || bias.dim(0) != weight.dim(0)))) {
            throw new IllegalArgumentException("linear: expected x (..., in), weight (out, in) and bias (out,) or null, got x "
                    + Checks.shape(x) + ", weight " + Checks.shape(weight) + (bias == null ? "" : " and bias " + Checks.shape(bias)));
        }
        return bias == null ? GemmOps.matmul(x, weight, false, true) : GemmOps.linear(x, weight, bias);
    }

    // ---- elementwise ---------------------------------------------------------------------------------------------

    public static Tensor add(Tensor a, Tensor b) {
        return ElementwiseOps.binary(ElementwiseOps.ADD, a, b);
    }

    public static Tensor sub(Tensor a, Tensor b) {
        return ElementwiseOps.binary(ElementwiseOps.SUB, a, b);
    }

    public static Tensor mul(Tensor a, Tensor b) {
        return ElementwiseOps.binary(ElementwiseOps.MUL, a, b);
    }

    public static Tensor div(Tensor a, Tensor b) {
        return ElementwiseOps.binary(ElementwiseOps.DIV, a, b);
    }

    /** x plus a bias along the last dimension: x (..., C), bias (C). */
    public static Tensor biasAdd(Tensor x, Tensor bias) {
        Checks.f32("bias_add", "x", x);
        Checks.f32("bias_add", "bias", bias);
        if (bias.rank() != 1 || x.rank() < 1 || bias.dim(0) != x.dim(-1)) {
            throw new IllegalArgumentException("bias_add: bias must be (C,) with C the last dimension of x, got x "
                    + Checks.shape(x) + " and bias " + Checks.shape(bias));
        }
        return add(x, bias);
    }

    /** alpha * x. */
    public static Tensor scale(Tensor x, float alpha) {
        return ElementwiseOps.scale(x, alpha);
    }

    public static Tensor neg(Tensor x) {
        return ElementwiseOps.scale(x, -1f);
    }

    public static Tensor relu(Tensor x) {
        return ElementwiseOps.activation(ElementwiseOps.RELU, x, 0f);
    }

    public static Tensor leakyRelu(Tensor x, float negativeSlope) {
        return ElementwiseOps.activation(ElementwiseOps.LEAKY_RELU, x, negativeSlope);
    }

    public static Tensor tanh(Tensor x) {
        return ElementwiseOps.activation(ElementwiseOps.TANH, x, 0f);
    }

    public static Tensor sigmoid(Tensor x) {
        return ElementwiseOps.activation(ElementwiseOps.SIGMOID, x, 0f);
    }

    /** GELU, exact (erf) form. */
    public static Tensor gelu(Tensor x) {
        return ElementwiseOps.activation(ElementwiseOps.GELU, x, 0f);
    }

    /**
     * Zeroes each element with probability p and scales the rest by 1/(1-p) when training; the identity (the same
     * tensor) otherwise. The mask comes from {@code generator}'s Philox stream and is regenerated in the backward.
     */
    public static Tensor dropout(Tensor x, float p, Generator generator, boolean training) {
        return ElementwiseOps.dropout(x, p, generator, training);
    }

    // ---- reductions ----------------------------------------------------------------------------------------------

    /** Sum of all elements, as a 0-dimensional tensor. */
    public static Tensor sum(Tensor x) {
        return ReduceOps.sum("sum", x, null, false);
    }

    /** Sum over {@code axis} (negative counts from the end); that dimension is removed. */
    public static Tensor sum(Tensor x, int axis) {
        return ReduceOps.sum("sum", x, axis, false);
    }

    public static Tensor mean(Tensor x) {
        return ReduceOps.sum("mean", x, null, true);
    }

    public static Tensor mean(Tensor x, int axis) {
        return ReduceOps.sum("mean", x, axis, true);
    }

    /** Max over the last axis. */
    public static Tensor max(Tensor x) {
        return ReduceOps.max(x);
    }

    /** Index of the max over the last axis (int32, first on ties). */
    public static Tensor argmax(Tensor x) {
        return ReduceOps.argmax(x);
    }

    public static Tensor softmax(Tensor x) {
        return ReduceOps.softmax(x, false);
    }

    public static Tensor logSoftmax(Tensor x) {
        return ReduceOps.softmax(x, true);
    }

    // ---- losses --------------------------------------------------------------------------------------------------

    /** Mean softmax cross entropy of logits (N, C) against int32 labels (N). */
    public static Tensor crossEntropy(Tensor logits, Tensor labels) {
        return LossOps.crossEntropy(logits, labels);
    }

    /** Mean binary cross entropy of logits against targets of the same shape (stable form). */
    public static Tensor bceWithLogits(Tensor logits, Tensor targets) {
        return LossOps.bceWithLogits(logits, targets);
    }

    /** Mean squared error. */
    public static Tensor mse(Tensor x, Tensor target) {
        return LossOps.mse(x, target);
    }

    // ---- sampling ---------------------------------------------------------------------------------------------

    /**
     * The VAE's reparameterized sample z = mu + exp(logvar / 2) eps, eps ~ N(0, 1) from {@code generator}: the noise is
     * drawn inside the kernel and regenerated in the backward, so gradients reach mu and logvar and nothing is stored.
     * The same generator state gives the same z, bit for bit, on every device.
     */
    public static Tensor reparameterize(Tensor mu, Tensor logvar, Generator generator) {
        return SamplingOps.reparameterize(mu, logvar, generator);
    }

    /** KL(N(mu, exp(logvar)) || N(0, I)) for mu, logvar (N, D), summed over D and averaged over N (a 0-d tensor). */
    public static Tensor gaussianKl(Tensor mu, Tensor logvar) {
        return SamplingOps.gaussianKl(mu, logvar);
    }

    // ---- convolution, pooling, normalization --------------------------------------------------------------------

    /** 2-D convolution: x (N, C, H, W), weight (K, C, R, S), bias (K) or null; stride, padding, dilation as {h, w}. */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, int[] dilation) {
        return Conv2dOps.conv2d(x, weight, bias, pair("conv2d", "stride", stride), pair("conv2d", "padding", padding),
                pair("conv2d", "dilation", dilation));
    }

    /** 2-D convolution with the same stride and padding in both directions, no dilation. */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        return Conv2dOps.conv2d(x, weight, bias, new int[] {stride, stride}, new int[] {padding, padding}, new int[] {1, 1});
    }

    /** Max pooling of x (N, C, H, W) with a square window. */
    public static Tensor maxPool2d(Tensor x, int kernel, int stride, int padding) {
        return PoolOps.maxPool2d(x, new int[] {kernel, kernel}, new int[] {stride, stride}, new int[] {padding, padding});
    }

    public static Tensor maxPool2d(Tensor x, int[] kernel, int[] stride, int[] padding) {
        return PoolOps.maxPool2d(x, pair("max_pool2d", "kernel", kernel), pair("max_pool2d", "stride", stride),
                pair("max_pool2d", "padding", padding));
    }

    /** Average pooling of x (N, C, H, W); countIncludePad divides by the full window at the borders. */
    public static Tensor avgPool2d(Tensor x, int kernel, int stride, int padding, boolean countIncludePad) {
        return PoolOps.avgPool2d(x, new int[] {kernel, kernel}, new int[] {stride, stride}, new int[] {padding, padding},
                countIncludePad);
    }

    /** Average pooling with a {h, w} window, stride and padding (a non-square window, or different strides). */
    public static Tensor avgPool2d(Tensor x, int[] kernel, int[] stride, int[] padding, boolean countIncludePad) {
        return PoolOps.avgPool2d(x, pair("avg_pool2d", "kernel", kernel), pair("avg_pool2d", "stride", stride),
                pair("avg_pool2d", "padding", padding), countIncludePad);
    }

    /**
     * Batch normalization of x (N, C) or (N, C, H, W) per channel. Training uses batch statistics and updates the
     * running ones (when given) with {@code momentum}; evaluation uses the running ones. gamma/beta may be null.
     */
    public static Tensor batchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                   boolean training, float momentum, float eps) {
        return BatchNormOps.batchNorm(x, gamma, beta, runningMean, runningVar, training, momentum, eps);
    }

    // ---- recurrent -------------------------------------------------------------------------------------------------

    /**
     * One batch-first LSTM layer over x (N, T, F): w_ih (4H, F), w_hh (4H, H), bias (4H), gates in the order
     * (i, f, g, o); h0, c0 (N, H) may be null (zeros). Gradients flow from the sequence and the final states.
     */
    public static LstmOutput lstm(Tensor x, Tensor h0, Tensor c0, Tensor wIh, Tensor wHh, Tensor bias) {
        return LstmOps.lstm(x, h0, c0, wIh, wHh, bias);
    }

    private static int[] pair(String op, String arg, int[] v) {
        if (v == null || v.length != 2) throw new IllegalArgumentException(op + ": " + arg + " must be {h, w}");
        return v;
    }

    // ---- shapes --------------------------------------------------------------------------------------------------

    /** The same data with another shape (one dimension may be -1); gradients flow through. */
    public static Tensor reshape(Tensor x, int... shape) {
        return ViewOps.view("reshape", x, shape);
    }

    /** As {@link #reshape}: the same memory with another shape, gradients flowing through. */
    public static Tensor view(Tensor x, int... shape) {
        return ViewOps.view("view", x, shape);
    }

    /**
     * The same memory and shape, cut from the autograd graph: no gradient flows back through it. A GAN's discriminator
     * step uses {@code detach(fake)} so that its backward leaves the generator's graph for the generator's step.
     */
    public static Tensor detach(Tensor x) {
        return ViewOps.detach(x);
    }

    /** (N, ...) to (N, rest). */
    public static Tensor flatten(Tensor x) {
        Checks.open("flatten", "x", x);
        Checks.minRank("flatten", "x", x, 1);
        // The rest is counted, not inferred with -1: an empty batch (0, C, H, W) flattens to (0, C H W).
        // An empty batch can hold any trailing dimensions, (0, 2^31 - 1, 2^31 - 1, ...): their product is checked.
        long rest = 1;
        try {
            for (int i = 1; i < x.rank(); i++) rest = Math.multiplyExact(rest, x.dim(i));
        } catch (ArithmeticException e) {
            rest = Long.MAX_VALUE;
        }
        if (rest > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("flatten: " + x + " would need a dimension of " + rest + " (more than an int)");
        }
        return reshape(x, x.dim(0), (int) rest);
    }

    // ---- in place, not recorded ----------------------------------------------------------------------------------

    /** Sets every element of {@code t} to {@code value}; returns t. */
    public static Tensor fill_(Tensor t, float value) {
        return RandomOps.fill_(t, value);
    }

    /** dst = src (same shape and dtype, any devices); returns dst. */
    public static Tensor copy_(Tensor dst, Tensor src) {
        return RuntimeOps.copy_(dst, src);
    }

    /** y += alpha x (same shape and device); returns y. */
    public static Tensor axpy_(float alpha, Tensor x, Tensor y) {
        return ElementwiseOps.axpy_(alpha, x, y);
    }

    /** t *= alpha; returns t. */
    public static Tensor scale_(Tensor t, float alpha) {
        return ElementwiseOps.scale_(t, alpha);
    }

    /** Uniform in [lo, hi) from the generator's Philox stream: the same state gives the same bits on every device. */
    public static Tensor uniform_(Tensor t, Generator generator, float lo, float hi) {
        return RandomOps.uniform_(t, generator, lo, hi);
    }

    /** Normal with the given mean and standard deviation, from the generator's Philox stream. */
    public static Tensor normal_(Tensor t, Generator generator, float mean, float std) {
        return RandomOps.normal_(t, generator, mean, std);
    }

    /**
     * One SGD step on {@code param} (PyTorch semantics, dampening 0): g = grad + weightDecay param;
     * velocity = momentum velocity + g; param -= lr (nesterov ? g + momentum velocity : velocity). velocity may be
     * null when momentum is 0.
     */
    public static void sgdStep_(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay,
                                boolean nesterov) {
        OptimOps.sgdStep_(param, grad, velocity, lr, momentum, weightDecay, nesterov);
    }

    /**
     * One Adam step on {@code param} with moments m and v (AdamW when decoupled); biasCorrection{1,2} are
     * 1 - beta{1,2}^step.
     */
    public static void adamStep_(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                 float eps, float weightDecay, boolean decoupled, float biasCorrection1,
                                 float biasCorrection2) {
        OptimOps.adamStep_(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, biasCorrection1,
                biasCorrection2);
    }

    /**
     * Capturable Adam's counter, once per optimizer step: {@code step} (1) i32 += 1 on the device, and
     * {@code biasCorrections} (2) f32 = {1 - beta1^step, 1 - beta2^step}, by the rule of
     * {@link dev.kiln.optim.Adam#biasCorrection}. Not recorded.
     */
    public static void adamAdvanceStep_(Tensor step, Tensor biasCorrections, float beta1, float beta2) {
        OptimOps.adamAdvanceStep_(step, biasCorrections, beta1, beta2);
    }

    /**
     * {@link #adamStep_} with the bias corrections read on the device from {@code biasCorrections} (2), as
     * {@link #adamAdvanceStep_} wrote them: a step a CUDA graph can replay. Not recorded.
     */
    public static void adamStepCapturable_(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1,
                                           float beta2, float eps, float weightDecay, boolean decoupled,
                                           Tensor biasCorrections) {
        OptimOps.adamStepCapturable_(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled,
                biasCorrections);
    }

    /**
     * (k,): element i is the sum of the squares of tensors[i], all on one device; one read of the result fetches
     * them all (gradient clipping). Not recorded.
     */
    public static Tensor sumSquares(List<Tensor> tensors) {
        return ReduceOps.sumSquares(tensors);
    }

    // ---- slices (SliceOps) ------------------------------------------------------------------------------------------

    /** Elements [start, start + length) of x along axis (negative axes count from the end), as a new tensor. */
    public static Tensor narrow(Tensor x, int axis, int start, int length) {
        return SliceOps.narrow(x, axis, start, length);
    }

    /** The tensors joined along axis; the other dimensions, dtypes and devices must agree. */
    public static Tensor concat(List<Tensor> parts, int axis) {
        return SliceOps.concat(parts, axis);
    }

    /**
     * Writes src into dst's band [start, start + src.dim(axis)) along axis, in place and not recorded: a key/value
     * cache takes one token's keys and values this way.
     */
    public static Tensor copyInto_(Tensor dst, int axis, int start, Tensor src) {
        return SliceOps.copyInto_(dst, axis, start, src);
    }

    // ---- attention (AttentionOps) ---------------------------------------------------------------------------------

    /**
     * Fused scaled dot-product attention, softmax(scale q k^T + mask) v per batch and head, with the options' causal
     * mask, key lengths and dropout: q (N, H, T, D), k and v (N, H, S, D), f32 or bf16 alike -> (N, H, T, D). The
     * (T, S) weights are never stored: the backward rebuilds them from each query's log-sum-exp.
     */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, AttentionOptions options) {
        return AttentionOps.attention(q, k, v, options);
    }

    /**
     * Self-attention over the packed output of a fused QKV projection, qkv (N, T, 3, H, D), read in place ->
     * (N, T, H, D), token-major for the output projection. The backward writes one gradient for qkv.
     */
    public static Tensor selfAttention(Tensor qkv, AttentionOptions options) {
        return AttentionOps.selfAttention(qkv, options);
    }

    /**
     * Queries q (N, T, H, D) against packed keys and values kv (N, S, 2, H, D) -> (N, T, H, D): cross-attention, or
     * one decoding step against a key/value cache of capacity S with the filled length in the options' key lengths
     * (tiles of keys past every length are skipped, so a step costs O(length)).
     */
    public static Tensor crossAttention(Tensor q, Tensor kv, AttentionOptions options) {
        return AttentionOps.crossAttention(q, kv, options);
    }

    // ---- layer norm, embedding, positions, bias + GELU (LayerNormOps, EmbeddingOps, ElementwiseOps) ---------------

    /**
     * Layer normalization over the last dimension of x (..., C): (x - mean) / sqrt(var + eps) * gamma + beta with the
     * biased variance of each row; gamma and beta (C) may be null (1 and 0). Gradients reach x, gamma and beta.
     */
    public static Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        return LayerNormOps.layerNorm(x, gamma, beta, eps);
    }

    /**
     * Rows of weight (V, E) named by int32 indices of any shape, giving shape(indices) + (E); an index outside [0, V)
     * gives a NaN row. The gradient reaches weight: each index's rows summed in increasing position (deterministic).
     */
    public static Tensor embedding(Tensor indices, Tensor weight) {
        return EmbeddingOps.embedding(indices, weight);
    }

    /**
     * Sinusoidal positional encodings (length, dim) of positions start .. start + length - 1: column 2i is
     * sin(p 10000^(-2i/dim)), column 2i + 1 its cos (dim may be odd). A constant: not recorded.
     */
    public static Tensor sinusoidalPositions(dev.kiln.Device device, int length, int dim, int start) {
        return EmbeddingOps.sinusoidalPositions(device, length, dim, start);
    }

    /** gelu(x + bias) (exact, erf form) in one kernel: x (..., C), bias (C); gradients reach x and bias. */
    public static Tensor biasGelu(Tensor x, Tensor bias) {
        return ElementwiseOps.biasGelu(x, bias);
    }

    // ---- bf16 conversion (ConvertOps) -------------------------------------------------------------------------------

    /**
     * x (f32) rounded to bf16, to nearest even (NaN stays NaN; values past bf16's largest finite one become
     * infinities). Recorded: the gradient reaching the bf16 result is widened back to f32 for x.
     */
    public static Tensor toBf16(Tensor x) {
        return ConvertOps.toBf16(x);
    }

    /** x (bf16) widened to f32, exactly. Recorded: the f32 gradient is rounded to bf16 for x. */
    public static Tensor toF32(Tensor x) {
        return ConvertOps.toF32(x);
    }

    /** A copy of x on {@code device} (a copy even when x is there already), recorded: the gradient goes back to x. */
    public static Tensor toDevice(Tensor x, dev.kiln.Device device) {
        return RuntimeOps.to(x, device);
    }

    /**
     * x as {@code dtype}, f32 or bf16 (see {@link #toBf16} and {@link #toF32}): always a new tensor, recorded; the same
     * dtype gives a copy whose gradient passes through unchanged.
     */
    public static Tensor to(Tensor x, dev.kiln.DType dtype) {
        return ConvertOps.to(x, dtype);
    }
}

package dev.kiln.train;

import dev.kiln.Profiler;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Optimizer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a {@link TrainStep} can do besides computing: update parameters and log scalars. Logged values are summed on
 * the device and read back only every few steps, so a GPU run is not serialized by its progress bar.
 */
public final class StepContext {
    private final List<Optimizer> optimizers;
    private final Map<String, Tensor> sums = new LinkedHashMap<>();  // metric -> running sum, a detached scalar
    private final Map<String, Integer> counts = new LinkedHashMap<>();
    private Profiler.Range forward;  // open from a step's start to its minimize, and again after it

    StepContext(List<Optimizer> optimizers) {
        this.optimizers = optimizers;
    }

    /** Zeroes the optimizer's gradients, backpropagates {@code loss} and takes the optimizer's step. */
    public void minimize(Tensor loss, Optimizer optimizer) {
        if (!optimizers.contains(optimizer)) {
            throw new IllegalArgumentException("minimize: the optimizer is not one of this trainer's " + optimizers.size()
                    + " (pass it to the Trainer, so it can be checkpointed and scheduled with the rest)");
        }
        endForward();
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        beginForward();  // a step with two optimizers (a GAN) computes its second loss next
    }

    /** Opens the step's "forward" range for a profiler (a no-op when none records). */
    void beginForward() {
        endForward();
        forward = Profiler.range("forward");
    }

    void endForward() {
        if (forward != null) forward.close();
        forward = null;
    }

    /** {@link #minimize(Tensor, Optimizer)} with the trainer's only optimizer. */
    public void minimize(Tensor loss) {
        if (optimizers.size() != 1) {
            throw new IllegalStateException("minimize(loss): the trainer has " + optimizers.size()
                    + " optimizers; say which one with minimize(loss, optimizer)");
        }
        minimize(loss, optimizers.get(0));
    }

    /** Adds a one-element tensor to the epoch mean of {@code metric}. */
    public void log(String metric, Tensor value) {
        if (value.numel() != 1) throw new IllegalArgumentException("log('" + metric + "'): needs a one-element tensor, got " + value);
        Tensor sum = sums.get(metric);
        if (sum == null) {
            sum = Scope.detached(() -> Tensor.zeros(value.device(), value.shape()));
            sums.put(metric, sum);
        }
        Ops.axpy_(1f, value, sum);
        counts.merge(metric, 1, Integer::sum);
    }

    /** The current means (reads the device). */
    Map<String, Double> means() {
        Map<String, Double> out = new LinkedHashMap<>();
        sums.forEach((name, sum) -> out.put(name, (double) sum.item() / counts.get(name)));
        return out;
    }

    /** Frees the running sums. */
    void close() {
        for (Tensor t : sums.values()) t.close();
        sums.clear();
        counts.clear();
    }
}

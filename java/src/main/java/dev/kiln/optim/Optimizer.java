package dev.kiln.optim;

import dev.kiln.Scope;
import dev.kiln.Tensor;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their gradients, one fused kernel per parameter tensor. Per-parameter state (momentum,
 * Adam moments) is allocated on the parameter's device on first use and freed by {@link #close()}.
 */
public abstract class Optimizer implements AutoCloseable {
    protected final List<Tensor> params;
    private final Map<Tensor, Tensor[]> state = new IdentityHashMap<>();
    private long steps;

    protected Optimizer(List<Tensor> params) {
        if (params == null || params.isEmpty()) throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameters");
        for (Tensor p : params) {
            if (!p.isRequiresGrad()) throw new IllegalArgumentException(getClass().getSimpleName() + ": " + p + " does not require grad");
        }
        this.params = List.copyOf(params);
    }

    /** Applies one update to every parameter that has a gradient. */
    public final void step() {
        steps++;
        for (Tensor p : params) {
            if (p.grad() != null) update(p, p.grad(), steps);
        }
    }

    /** Zeroes every parameter's gradient in place. */
    public final void zeroGrad() {
        for (Tensor p : params) p.zeroGrad();
    }

    /** Number of steps taken. */
    public final long steps() {
        return steps;
    }

    protected abstract void update(Tensor param, Tensor grad, long step);

    /** The state buffers of {@code param}: {@code count} zero-filled tensors of its shape, created on first use. */
    protected final Tensor[] state(Tensor param, int count) {
        return state.computeIfAbsent(param, p -> Scope.detached(() -> {
            Tensor[] buffers = new Tensor[count];
            for (int i = 0; i < count; i++) buffers[i] = Tensor.zeros(p.device(), p.shape());
            return buffers;
        }));
    }

    @Override
    public void close() {
        for (Tensor[] buffers : state.values()) for (Tensor t : buffers) t.close();
        state.clear();
    }
}

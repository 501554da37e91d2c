package dev.kiln.optim;

import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

import java.util.List;

/** Stochastic gradient descent with optional momentum (PyTorch semantics), Nesterov and L2 weight decay. */
public final class Sgd extends Optimizer {
    private final float lr;
    private final float momentum;
    private final float weightDecay;
    private final boolean nesterov;

    /** Plain SGD with learning rate {@code lr}: no momentum, no weight decay. */
    public Sgd(List<Tensor> params, float lr) {
        this(params, lr, 0f, 0f, false);
    }

    /**
     * SGD with learning rate {@code lr} (positive), momentum and L2 weight decay (non-negative), all finite, and
     * Nesterov momentum when {@code nesterov} (which needs momentum).
     */
    public Sgd(List<Tensor> params, float lr, float momentum, float weightDecay, boolean nesterov) {
        super(params);
        if (!positive(lr) || !nonNegative(momentum) || !nonNegative(weightDecay)) {
            throw new IllegalArgumentException("Sgd: needs finite lr > 0, momentum >= 0, weightDecay >= 0; got lr=" + lr
                    + " momentum=" + momentum + " weightDecay=" + weightDecay);
        }
        if (nesterov && momentum == 0f) throw new IllegalArgumentException("Sgd: Nesterov needs momentum > 0");
        this.lr = lr;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
    }

    /** The velocity, when there is momentum. */
    @Override
    protected List<String> stateNames() {
        return momentum == 0f ? List.of() : List.of("momentum_buffer");
    }

    @Override
    protected void update(Tensor param, Tensor grad, long step) {
        Tensor velocity = momentum == 0f ? null : state(param, 1)[0];
        Ops.sgdStep_(param, grad, velocity, scheduled(lr), momentum, weightDecay, nesterov);
    }
}

package dev.kiln.optim;

import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

import java.util.List;

/**
 * Adam (Kingma and Ba) with bias correction; {@link #adamW} gives the decoupled weight decay of Loshchilov and
 * Hutter, {@link #Adam(List, float)} the plain defaults (betas 0.9, 0.999, eps 1e-8, no decay).
 */
public class Adam extends Optimizer {
    private final float lr;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final boolean decoupled;

    public Adam(List<Tensor> params, float lr) {
        this(params, lr, 0.9f, 0.999f, 1e-8f, 0f, false);
    }

    public Adam(List<Tensor> params, float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled) {
        super(params);
        if (!(lr > 0f) || !(beta1 >= 0f && beta1 < 1f) || !(beta2 >= 0f && beta2 < 1f) || !(eps > 0f) || weightDecay < 0f) {
            throw new IllegalArgumentException("Adam: needs lr > 0, betas in [0, 1), eps > 0, weightDecay >= 0; got lr=" + lr
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

    /** m and v per parameter, under PyTorch's names. */
    @Override
    protected List<String> stateNames() {
        return List.of("exp_avg", "exp_avg_sq");
    }

    @Override
    protected void update(Tensor param, Tensor grad, long step) {
        Tensor[] s = state(param, 2);
        float bc1 = (float) (1.0 - Math.pow(beta1, step));
        float bc2 = (float) (1.0 - Math.pow(beta2, step));
        Ops.adamStep_(param, grad, s[0], s[1], lr, beta1, beta2, eps, weightDecay, decoupled, bc1, bc2);
    }
}

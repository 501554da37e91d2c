package dev.kiln.optim;

import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/** Gradient clipping by global norm. */
public final class GradClip {
    private GradClip() {
    }

    /**
     * Scales every gradient by min(1, maxNorm / total) where total is the L2 norm of all gradients together; returns
     * total. One small device-to-host read per call (the norms of all tensors at once).
     */
    public static double clipGradNorm(List<Tensor> params, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("clipGradNorm: maxNorm must be > 0, got " + maxNorm);
        // Each gradient once, however often its parameter is listed: a repeat would count twice in the norm and be
        // scaled twice.
        Set<Tensor> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Tensor> grads = params.stream().map(Tensor::grad).filter(g -> g != null && distinct.add(g)).toList();
        if (grads.isEmpty()) return 0;
        double total = 0;
        for (Device device : grads.stream().map(Tensor::device).distinct().toList()) {
            List<Tensor> here = grads.stream().filter(g -> g.device().equals(device)).toList();
            try (Tensor sums = Scope.detached(() -> Ops.sumSquares(here))) {
                for (float s : sums.toFloatArray()) total += s;
            }
        }
        double norm = Math.sqrt(total);
        if (norm > maxNorm) {
            float factor = (float) (maxNorm / (norm + 1e-6));
            for (Tensor g : grads) Ops.scale_(g, factor);
        }
        return norm;
    }
}

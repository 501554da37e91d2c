package dev.kiln.optim;

/**
 * A learning-rate schedule: the factor that multiplies an optimizer's learning rate at step {@code t} (1 for the first
 * step taken). A pure function of the step count, which {@link Optimizer} saves with its state, so a resumed run
 * continues the schedule exactly where it stopped with nothing else saved.
 *
 * <pre>{@code
 * Adam adam = new Adam(model.parameters(), 1e-3f);
 * adam.schedule(LrSchedule.warmupCosine(100, 1500, 0.1));  // 100 steps up to 1e-3, then down to 1e-4 at step 1500
 * }</pre>
 */
@FunctionalInterface
public interface LrSchedule {
    /** The factor for step {@code t >= 1}; finite and >= 0. */
    double factor(long t);

    /** Always 1: the optimizer's own learning rate (the default). */
    static LrSchedule constant() {
        return Constant.INSTANCE;
    }

    /**
     * Linear warmup, then a half cosine: t / warmup for {@code t <= warmup} (the first step takes lr / warmup, step
     * {@code warmup} the full lr), then from 1 down to {@code finalFactor} at step {@code total}, and
     * {@code finalFactor} after it. {@code warmup} may be 0 (no warmup) and must be below {@code total}.
     */
    static LrSchedule warmupCosine(long warmup, long total, double finalFactor) {
        if (warmup < 0 || total <= warmup || !(finalFactor >= 0 && finalFactor <= 1)) {
            throw new IllegalArgumentException("LrSchedule.warmupCosine: needs 0 <= warmup < total and finalFactor in "
                    + "[0, 1]; got warmup " + warmup + ", total " + total + ", finalFactor " + finalFactor);
        }
        return t -> {
            if (t <= warmup) return (double) t / warmup;
            double progress = Math.min(1.0, (double) (t - warmup) / (total - warmup));
            return finalFactor + (1 - finalFactor) * 0.5 * (1 + Math.cos(Math.PI * progress));
        };
    }

    /** {@code gamma} to the power of completed periods: 1 for steps 1..every, gamma for the next {@code every}, ... */
    static LrSchedule stepDecay(long every, double gamma) {
        if (every < 1 || !(gamma > 0 && gamma <= 1)) {
            throw new IllegalArgumentException("LrSchedule.stepDecay: needs every >= 1 and gamma in (0, 1]; got every "
                    + every + ", gamma " + gamma);
        }
        return t -> Math.pow(gamma, (t - 1) / every);
    }

    /** The constant schedule as a value of its own, so an optimizer can tell that it has no schedule. */
    enum Constant implements LrSchedule {
        /** The one constant schedule. */
        INSTANCE;

        @Override
        public double factor(long t) {
            return 1;
        }
    }
}

package dev.kiln.compare.djl;

import ai.djl.Device;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;

/** What the recipes share: Adam with the learning rate and beta1 of bench/compare's PyTorch side, on the CPU. */
final class Recipes {
    private Recipes() {
    }

    /** DJL's Adam: beta2 0.999 and epsilon 1e-8 by default, as torch.optim.Adam; no weight decay, no clipping. */
    static DefaultTrainingConfig adam(Loss loss, float lr, float beta1) {
        Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(lr)).optBeta1(beta1).build();
        return new DefaultTrainingConfig(loss).optOptimizer(adam).optDevices(new Device[] {Device.cpu()});
    }
}

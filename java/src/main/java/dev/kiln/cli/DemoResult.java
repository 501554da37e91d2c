package dev.kiln.cli;

import java.util.Map;

/**
 * One finished model of {@code kiln demo}: its stage, the entries of its metrics.json, how long the whole run took
 * (training, evaluation, scoring and pictures) and its loss chart, relative to the demo's folder (null if none).
 */
record DemoResult(DemoPlan.Stage stage, Map<String, Object> metrics, double wallSeconds, String lossChart) {
    DemoModel model() {
        return stage.model();
    }

    /** Training samples (images or tokens) per second, as the run measured it over its training steps alone. */
    double rate() {
        return metrics.get(model().rate.key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    double trainSeconds() {
        return metrics.get("train_seconds") instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}

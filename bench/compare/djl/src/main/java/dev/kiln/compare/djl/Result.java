package dev.kiln.compare.djl;

import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** One training run: throughput over the timed loop and the model's final metric(s). */
record Result(long samples, double seconds, Map<String, Double> metric) {
    double rate() {
        return samples / seconds;
    }

    /** One JSON line, the shape compare.py reads: {"rate": ..., "unit": ..., "metric": {...}, ...}. */
    String json(String model, String engineVersion, int threads) {
        String metrics = metric.entrySet().stream()
                .map(e -> String.format(Locale.ROOT, "\"%s\": %.6g", e.getKey(), e.getValue()))
                .collect(Collectors.joining(", ", "{", "}"));
        return String.format(Locale.ROOT, "{\"model\": \"%s\", \"rate\": %.3f, \"unit\": \"samples/s\", \"metric\": %s, "
                        + "\"samples\": %d, \"seconds\": %.3f, \"engine\": \"PyTorch %s\", \"threads\": %d}",
                model, rate(), metrics, samples, seconds, engineVersion, threads);
    }
}

package dev.kiln.cli;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

/**
 * The models of {@code kiln demo} and how its report reads each one's results: the figures of its metrics.json
 * (the first is the headline), its training rate, its loss's unit and the pictures its run writes.
 */
enum DemoModel {
    CNN("cnn", "CNN", List.of(Figure.percent("test accuracy", "test_accuracy", 2)),
            Rate.IMAGES, "cross entropy (nats)", List.of()),
    RNN("rnn", "LSTM-RNN", List.of(Figure.percent("test accuracy", "test_accuracy", 2)),
            Rate.IMAGES, "cross entropy (nats)", List.of()),
    TRANSFORMER("transformer", "Transformer seq2seq",
            List.of(Figure.percent("exact match on 1,000 held-out strings", "exact_match", 1)),
            Rate.TOKENS, "token cross entropy (nats)", List.of()),
    CHARLM("charlm", "Character LM",
            List.of(new Figure("validation bits per character", "bits_per_character", 1, "%.3f")),
            Rate.TOKENS, "cross entropy (nats per character)", List.of()),
    VAE("vae", "VAE",
            List.of(new Figure("test negative ELBO (nats/image)", "test_negative_elbo", 1, "%.2f"),
                    new Figure("reconstruction", "test_reconstruction", 1, "%.2f"),
                    new Figure("KL", "test_kl", 1, "%.2f"),
                    new Figure("Fréchet distance of 10,000 samples", "frechet_distance", 1, "%.2f")),
            Rate.IMAGES, "negative ELBO (nats per image)",
            List.of(new Picture("vae_samples.png", "64 samples from the prior"),
                    new Picture("vae_reconstructions.png", "test images (odd rows) and their reconstructions (even rows)"))),
    GAN("gan", "GAN",
            List.of(new Figure("Fréchet distance of 10,000 samples", "frechet_distance", 1, "%.2f"),
                    Figure.classesPresent(),
                    Figure.percent("smallest class share (uniform: 10%)", "min_class_fraction", 1),
                    new Figure("real images' distance (the floor)", "real_data_frechet_distance", 1, "%.2f")),
            Rate.IMAGES, "binary cross entropy",
            List.of(new Picture("gan_epoch_*.png", "64 samples from one fixed noise batch after the last epoch")));

    /** One number read from a run's metrics.json entries, formatted for the report. */
    record Figure(String label, ToDoubleFunction<Map<String, Object>> read, String format) {
        /** The entry {@code key} times {@code scale}. */
        Figure(String label, String key, double scale, String format) {
            this(label, m -> m.get(key) instanceof Number n ? n.doubleValue() * scale : Double.NaN, format);
        }

        static Figure percent(String label, String key, int decimals) {
            return new Figure(label, key, 100, "%." + decimals + "f%%");
        }

        /** How many classes the scoring classifier saw at least once among the samples: mode coverage at a glance. */
        static Figure classesPresent() {
            return new Figure("classes present (of 10)", m -> m.get("class_counts") instanceof long[] counts
                    ? Arrays.stream(counts).filter(c -> c > 0).count() : Double.NaN, "%.0f");
        }

        /** The value, or NaN when the run did not report it (a VAE run that was not scored, say). */
        double value(Map<String, Object> metrics) {
            return read.applyAsDouble(metrics);
        }

        boolean present(Map<String, Object> metrics) {
            return !Double.isNaN(value(metrics));
        }

        String text(Map<String, Object> metrics) {
            double v = value(metrics);
            return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, format, v);
        }
    }

    /** What a run's training rate counts, and the metrics.json entry that holds it. */
    enum Rate {
        IMAGES("images/s", "train_samples_per_second"), TOKENS("tokens/s", "train_tokens_per_second");

        final String unit;
        final String key;

        Rate(String unit, String key) {
            this.unit = unit;
            this.key = key;
        }
    }

    /** A picture the run writes into its folder; {@code glob} may match several files (one per epoch): the last is shown. */
    record Picture(String glob, String caption) {
        Optional<Path> find(Path dir) throws IOException {
            if (!Files.isDirectory(dir)) return Optional.empty();
            PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + glob);
            try (Stream<Path> files = Files.list(dir)) {
                return files.filter(p -> matcher.matches(p.getFileName())).max(Comparator.naturalOrder());
            }
        }
    }

    final String command;
    final String title;
    final List<Figure> figures;
    final Rate rate;
    final String lossUnit;
    final List<Picture> pictures;

    DemoModel(String command, String title, List<Figure> figures, Rate rate, String lossUnit, List<Picture> pictures) {
        this.command = command;
        this.title = title;
        this.figures = figures;
        this.rate = rate;
        this.lossUnit = lossUnit;
        this.pictures = pictures;
    }

    Figure headline() {
        return figures.get(0);
    }

    /** The architecture in words: the recipe's own description, so kiln train and the demo never disagree. */
    String description() {
        return TrainCommand.MODELS.get(command).description();
    }
}

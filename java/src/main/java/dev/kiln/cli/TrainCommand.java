package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Kiln;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.data.FashionMnist;
import dev.kiln.models.Cnn;
import dev.kiln.models.LstmClassifier;
import dev.kiln.models.Mlp;
import dev.kiln.nn.Layer;
import dev.kiln.optim.Adam;
import dev.kiln.train.Classification;
import dev.kiln.train.EpochStats;
import dev.kiln.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;

/** {@code kiln train MODEL}: trains a reference model on Fashion-MNIST and writes metrics.json. */
@Command(name = "train", description = "Train a model on Fashion-MNIST with a live progress bar; prints the test "
        + "accuracy and writes metrics.json into --out.")
final class TrainCommand implements Callable<Integer> {
    /** The models `kiln train` knows; later architectures register here. */
    static final Map<String, BiFunction<Device, Generator, Layer>> MODELS = Map.of(
            "mlp", Mlp::fashionMnist,
            "cnn", Cnn::fashionMnist,
            "rnn", LstmClassifier::fashionMnist);

    @Parameters(index = "0", paramLabel = "MODEL", description = "Model to train: ${COMPLETION-CANDIDATES}",
            completionCandidates = ModelNames.class)
    String model;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or cuda:N (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--epochs", defaultValue = "2", description = "Epochs (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch", defaultValue = "64", description = "Batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
    float lr;

    @Option(names = "--seed", defaultValue = "42", description = "Seed for initialization and shuffling (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", description = "Output folder (default: runs/MODEL)")
    Path out;

    @Override
    public Integer call() throws IOException {
        BiFunction<Device, Generator, Layer> factory = MODELS.get(model.toLowerCase(Locale.ROOT));
        if (factory == null) throw new IllegalArgumentException("unknown model '" + model + "'; known: " + String.join(", ", new ModelNames()));
        if (epochs < 1 || batch < 1 || !(lr > 0)) throw new IllegalArgumentException("--epochs and --batch must be >= 1 and --lr > 0");
        Device dev = Device.parse(device);
        Dataset train = FashionMnist.load(FashionMnist.Split.TRAIN);
        Dataset test = FashionMnist.load(FashionMnist.Split.TEST);
        System.out.printf("kiln train %s on %s (%s): %d train / %d test images, batch %d, Adam lr %s, seed %d%n",
                model, dev, dev.info().name(), train.count(), test.count(), batch, lr, seed);
        List<String> epochLines = new ArrayList<>();
        double accuracy = 0, lastLoss = Double.NaN, trainSeconds = 0;
        long started = System.nanoTime();
        try (Layer net = factory.apply(dev, new Generator(seed));
             Adam adam = new Adam(net.parameters(), lr)) {
            System.out.println(net + ", " + String.format(Locale.ROOT, "%,d", net.parameterCount()) + " parameters");
            BatchLoader loader = new BatchLoader(train, batch, true, seed, dev);
            Progress progress = new Progress(System.out, epochs, train.count());
            Trainer trainer = new Trainer(net, adam).listener(progress);
            for (int e = 1; e <= epochs; e++) {
                progress.startEpoch();
                EpochStats stats = trainer.epoch(e, loader, Classification.step(net));
                lastLoss = stats.mean("loss");
                double seconds = stats.seconds();
                trainSeconds += seconds;
                accuracy = Classification.accuracy(net, test, 1000, dev);
                progress.evaluated(e, stats, "test accuracy", accuracy);
                epochLines.add(String.format(Locale.ROOT,
                        "{\"epoch\": %d, \"train_loss\": %.6f, \"test_accuracy\": %.6f, \"seconds\": %.3f, \"samples_per_second\": %.1f}",
                        e, lastLoss, accuracy, seconds, train.count() / seconds));
            }
        }
        double wall = (System.nanoTime() - started) / 1e9;
        double rate = (double) train.count() * epochs / trainSeconds;
        System.out.printf(Locale.ROOT, "test accuracy %.2f%% after %d epoch(s); %.1fs wall, %,.0f training samples/s%n",
                100 * accuracy, epochs, wall, rate);
        if (out == null) out = Path.of("runs", model.toLowerCase(Locale.ROOT));
        Files.createDirectories(out);
        Path metrics = out.resolve("metrics.json");
        Files.writeString(metrics, String.format(Locale.ROOT, """
                {
                  "model": "%s",
                  "device": "%s",
                  "build": "%s",
                  "epochs": %d,
                  "batch": %d,
                  "lr": %s,
                  "seed": %d,
                  "test_accuracy": %.6f,
                  "final_train_loss": %.6f,
                  "wall_seconds": %.3f,
                  "train_seconds": %.3f,
                  "train_samples_per_second": %.1f,
                  "per_epoch": [
                    %s
                  ]
                }
                """, model, dev, Kiln.buildInfo().replace("\"", "'"), epochs, batch, lr, seed, accuracy, lastLoss, wall,
                trainSeconds, rate, String.join(",\n    ", epochLines)));
        System.out.println("metrics: " + metrics.toAbsolutePath());
        return 0;
    }

    static final class ModelNames extends ArrayList<String> {
        ModelNames() {
            super(MODELS.keySet().stream().sorted().toList());
        }
    }
}

package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.data.FashionMnist;
import dev.kiln.io.Checkpoints;
import dev.kiln.models.Cnn;
import dev.kiln.models.LstmClassifier;
import dev.kiln.models.Mlp;
import dev.kiln.nn.Layer;
import dev.kiln.optim.Adam;
import dev.kiln.train.Classification;
import dev.kiln.train.EpochStats;
import dev.kiln.train.Trainer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;

/** Training a classifier (mlp, cnn, rnn): cross entropy, test accuracy after every epoch. */
final class ClassifierRun implements TrainCommand.Run {
    private static final Map<String, BiFunction<Device, Generator, Layer>> FACTORIES = Map.of(
            "mlp", Mlp::fashionMnist, "cnn", Cnn::fashionMnist, "rnn", LstmClassifier::fashionMnist);

    private final String name;

    private ClassifierRun(String name) {
        this.name = name;
    }

    static ClassifierRun of(String name) {
        return new ClassifierRun(name);
    }

    @Override
    public Map<String, Object> train(TrainCommand o, Device device) throws Exception {
        Dataset train = o.trainingSet();
        Dataset test = FashionMnist.load(FashionMnist.Split.TEST);
        System.out.printf("kiln train %s on %s (%s): %d train / %d test images, batch %d, Adam lr %s, seed %d%n",
                name, device, device.info().name(), train.count(), test.count(), o.batch, o.lr, o.seed);
        TrainCommand.EpochLog log = new TrainCommand.EpochLog();
        double accuracy = 0, lastLoss = Double.NaN;
        Generator init = new Generator(o.seed);
        RunCheckpoint.Position start;
        try (Layer net = FACTORIES.get(name).apply(device, init); Adam adam = new Adam(net.parameters(), o.lr)) {
            System.out.println(net + ", " + String.format(Locale.ROOT, "%,d", net.parameterCount()) + " parameters");
            BatchLoader loader = new BatchLoader(train, o.batch, true, o.seed, device);
            RunCheckpoint checkpoint = new RunCheckpoint(o.save, o, net, List.of(adam), loader).generator("init", init);
            start = checkpoint.resume(o.resume, o.epochs);
            Progress progress = new Progress(System.out, o.epochs, train.count());
            Trainer trainer = new Trainer(net, adam).listener(TeeListener.of(progress, o.observer));
            o.interrupt.watch(trainer);
            for (int e = start.epochs() + 1; e <= o.epochs; e++) {
                progress.startEpoch((long) start.firstBatch(e) * o.batch);
                EpochStats stats = trainer.epoch(e, loader, start.firstBatch(e), Classification.step(net));
                if (stats.stopped()) throw checkpoint.stopped(e, start.firstBatch(e) + stats.steps(), stats.steps());
                lastLoss = stats.mean("loss");
                accuracy = Classification.accuracy(net, test, 1000, device);
                progress.evaluated(e, stats, "test accuracy", accuracy);
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("epoch", e);
                entry.put("train_loss", lastLoss);
                entry.put("test_accuracy", accuracy);
                entry.put("seconds", stats.seconds());
                entry.put("samples_per_second", stats.samplesPerSecond());
                log.add(entry, stats.seconds(), stats.samples());
                checkpoint.save(e, stats.steps());
            }
            o.interrupt.watch(null);
            Checkpoints.saveModule(o.out.resolve("model.safetensors"), net, Map.of("model", name));
        }
        System.out.printf(Locale.ROOT, "test accuracy %.2f%% after %d epoch(s); %,.0f training samples/s%n",
                100 * accuracy, o.epochs, log.samplesPerSecond());
        Map<String, Object> m = new LinkedHashMap<>();
        start.describe(m);
        m.put("test_accuracy", accuracy);
        m.put("final_train_loss", lastLoss);
        m.put("train_seconds", log.trainSeconds);
        m.put("train_samples_per_second", log.samplesPerSecond());
        m.put("per_epoch", log.epochs);
        return m;
    }
}

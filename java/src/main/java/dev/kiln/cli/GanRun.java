package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.data.BatchLoader;
import dev.kiln.data.Dataset;
import dev.kiln.data.FashionMnist;
import dev.kiln.eval.ImageScore;
import dev.kiln.io.Checkpoints;
import dev.kiln.io.ImageGrid;
import dev.kiln.models.Cnn;
import dev.kiln.models.Gan;
import dev.kiln.optim.Adam;
import dev.kiln.train.EpochStats;
import dev.kiln.train.Trainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Training the GAN: two Adam optimizers (lr, beta1 0.5), samples from one fixed noise batch after every epoch (so
 * progress can be watched), loss curves, and at the end the quality score of 10,000 samples (Fréchet distance of the
 * cached classifier's features, and its class histogram) beside the same score of real training images (the floor).
 */
final class GanRun implements TrainCommand.Run {
    static final int SCORED = 10_000;

    @Override
    public Map<String, Object> train(TrainCommand o, Device device) throws Exception {
        Dataset train = o.trainingSet();
        Dataset test = FashionMnist.load(FashionMnist.Split.TEST);
        System.out.printf("kiln train gan on %s (%s): %d train images, batch %d, Adam lr %s beta1 0.5, seed %d%n",
                device, device.info().name(), train.count(), o.batch, o.lr, o.seed);
        TrainCommand.EpochLog log = new TrainCommand.EpochLog();
        Map<String, Object> m = new LinkedHashMap<>();
        Generator init = new Generator(o.seed), fixed = new Generator(o.seed + 3);
        try (Gan gan = new Gan(device, init);
             Adam g = new Adam(gan.generatorParameters(), o.lr, 0.5f, 0.999f, 1e-8f, 0f, false);
             Adam d = new Adam(gan.discriminatorParameters(), o.lr, 0.5f, 0.999f, 1e-8f, 0f, false);
             Tensor fixedNoise = Scope.detached(() -> Tensor.randn(fixed, device, 64, Gan.NOISE))) {
            System.out.println(gan);
            BatchLoader loader = new BatchLoader(train, o.batch, true, o.seed, device);
            Progress progress = new Progress(System.out, o.epochs, train.count());
            LossCurves curves = new LossCurves(progress, 100);
            Trainer trainer = new Trainer(List.of(gan), List.of(g, d)).listener(TeeListener.of(curves, o.observer));
            Generator noise = new Generator(o.seed + 1);
            RunCheckpoint checkpoint = new RunCheckpoint(o.save, o, gan, List.of(g, d), loader)
                    .generator("init", init).generator("noise", noise).generator("fixed_noise", fixed);
            RunCheckpoint.Position start = checkpoint.resume(o.resume, o.epochs);
            start.describe(m);
            removeLaterGrids(o.out, o.epochs);
            o.interrupt.watch(trainer);
            for (int e = start.epochs() + 1; e <= o.epochs; e++) {
                progress.startEpoch((long) start.firstBatch(e) * o.batch);
                EpochStats stats = trainer.epoch(e, loader, start.firstBatch(e), gan.step(g, d, noise));
                if (stats.stopped()) throw checkpoint.stopped(e, start.firstBatch(e) + stats.steps(), stats.steps());
                try (Scope s = Scope.open()) {
                    ImageGrid.write(o.out.resolve(String.format(Locale.ROOT, "gan_epoch_%02d.png", e)), gan.images(fixedNoise), 8, 2);
                }
                System.out.printf(Locale.ROOT, "epoch %d/%d done in %.1fs: d_loss %.4f, g_loss %.4f%n", e, o.epochs,
                        stats.seconds(), stats.mean("d_loss"), stats.mean("g_loss"));
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("epoch", e);
                entry.put("d_loss", stats.mean("d_loss"));
                entry.put("g_loss", stats.mean("g_loss"));
                entry.put("seconds", stats.seconds());
                entry.put("samples_per_second", stats.samplesPerSecond());
                log.add(entry, stats.seconds(), stats.samples());
                checkpoint.save(e, stats.steps());
            }
            o.interrupt.watch(null);
            Checkpoints.saveModule(o.out.resolve("model.safetensors"), gan, Map.of("model", "gan"));
            ImageGrid.lineChart(o.out.resolve("gan_loss.png"), curves.curves(), "GAN training losses (BCE)",
                    "step / " + curves.pointEvery(), "loss", 800, 500);
            if (o.noScore) return finish(m, log, o);
            System.out.println("scoring " + SCORED + " samples with " + ScoringClassifier.describe(o.scorer) + "...");
            try (Cnn cnn = ScoringClassifier.open(o.scorer, device)) {
                ImageScore score = new ImageScore(cnn, test, device);
                ImageScore.Score generated = samplesScore(score, gan, device, o.seed);
                // The floor needs SCORED real images, more than --limit may have left.
                Dataset reals = train.count() >= SCORED ? train : FashionMnist.load(FashionMnist.Split.TRAIN);
                Iterator<BatchLoader.Batch> real = new BatchLoader(reals, 500, true, o.seed + 5, device).epoch().iterator();
                ImageScore.Score floor = score.score(n -> real.next().x(), SCORED);
                System.out.printf(Locale.ROOT, "samples: %s%nreal training images (the floor): %s%n", generated, floor);
                m.put("frechet_distance", generated.frechetDistance());
                m.put("class_counts", generated.classCounts());
                m.put("min_class_fraction", generated.minClassFraction());
                m.put("real_data_frechet_distance", floor.frechetDistance());
                m.put("scored_with", ScoringClassifier.describe(o.scorer));
            }
        }
        return finish(m, log, o);
    }

    /** The score of {@value #SCORED} samples drawn from seed + 4: what kiln train and kiln eval report. */
    static ImageScore.Score samplesScore(ImageScore score, Gan gan, Device device, long seed) {
        Generator sampler = new Generator(seed + 4);
        return score.score(n -> gan.images(Tensor.randn(sampler, device, n, Gan.NOISE)), SCORED);
    }

    private static Map<String, Object> finish(Map<String, Object> m, TrainCommand.EpochLog log, TrainCommand o) {
        System.out.printf(Locale.ROOT, "%,.0f training samples/s; pictures in %s%n", log.samplesPerSecond(), o.out.toAbsolutePath());
        m.put("train_seconds", log.trainSeconds);
        m.put("train_samples_per_second", log.samplesPerSecond());
        m.put("per_epoch", log.epochs);
        return m;
    }

    private static final Pattern GRID = Pattern.compile("gan_epoch_(\\d+)\\.png");

    /**
     * Deletes the sample grids of epochs after {@code epochs} that an earlier, longer run left in {@code dir}: the demo
     * report shows the highest-numbered grid as the last epoch's. Those up to {@code epochs} this run writes itself (or
     * wrote before the checkpoint it resumes).
     */
    static void removeLaterGrids(Path dir, int epochs) throws IOException {
        if (!Files.isDirectory(dir)) return;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Matcher match = GRID.matcher(p.getFileName().toString());
                if (match.matches() && (match.group(1).length() > 9 || Integer.parseInt(match.group(1)) > epochs)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}

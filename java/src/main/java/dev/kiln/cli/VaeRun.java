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
import dev.kiln.models.Vae;
import dev.kiln.ops.Autograd;
import dev.kiln.ops.NoGrad;
import dev.kiln.optim.Adam;
import dev.kiln.train.EpochStats;
import dev.kiln.train.Trainer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Training the VAE: the test negative ELBO (reconstruction + KL, nats per image) after every epoch; then pictures:
 * reconstructions beside their inputs, samples from the prior, the loss curves and, for latent size 2, the latent
 * manifold and the test set's latent means coloured by class.
 */
final class VaeRun implements TrainCommand.Run {
    @Override
    public Map<String, Object> train(TrainCommand o, Device device) throws Exception {
        Dataset train = o.trainingSet();
        Dataset test = FashionMnist.load(FashionMnist.Split.TEST);
        System.out.printf("kiln train vae (latent %d) on %s (%s): %d train / %d test images, batch %d, Adam lr %s, seed %d%n",
                o.latent, device, device.info().name(), train.count(), test.count(), o.batch, o.lr, o.seed);
        TrainCommand.EpochLog log = new TrainCommand.EpochLog();
        Map<String, Object> quality = new LinkedHashMap<>();
        Vae.Elbo elbo = null;
        Generator init = new Generator(o.seed);
        RunCheckpoint.Position start;
        try (Vae vae = Vae.fashionMnist(o.latent, device, init); Adam adam = new Adam(vae.parameters(), o.lr)) {
            System.out.println(vae);
            BatchLoader loader = new BatchLoader(train, o.batch, true, o.seed, device);
            RunCheckpoint checkpoint = new RunCheckpoint(o.save, o, vae, List.of(adam), loader)
                    .generator("init", init).generator("noise", vae.noise());
            start = checkpoint.resume(o.resume, o.epochs);
            Progress progress = new Progress(System.out, o.epochs, train.count());
            LossCurves curves = new LossCurves(progress, 100);
            Trainer trainer = new Trainer(vae, adam).listener(TeeListener.of(curves, o.observer));
            o.interrupt.watch(trainer);
            for (int e = start.epochs() + 1; e <= o.epochs; e++) {
                progress.startEpoch((long) start.firstBatch(e) * o.batch);
                EpochStats stats = trainer.epoch(e, loader, start.firstBatch(e), vae.step());
                if (stats.stopped()) throw checkpoint.stopped(e, start.firstBatch(e) + stats.steps(), stats.steps());
                elbo = vae.evaluate(test, 1000, device, o.seed + 1);
                System.out.printf(Locale.ROOT, "epoch %d/%d done in %.1fs: train -ELBO %.2f; test -ELBO %.2f nats "
                                + "(reconstruction %.2f + KL %.2f)%n", e, o.epochs, stats.seconds(), stats.mean("loss"),
                        elbo.negativeElbo(), elbo.reconstruction(), elbo.kl());
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("epoch", e);
                entry.put("train_negative_elbo", stats.mean("loss"));
                entry.put("test_negative_elbo", elbo.negativeElbo());
                entry.put("test_reconstruction", elbo.reconstruction());
                entry.put("test_kl", elbo.kl());
                entry.put("seconds", stats.seconds());
                entry.put("samples_per_second", stats.samplesPerSecond());
                log.add(entry, stats.seconds(), stats.samples());
                checkpoint.save(e, stats.steps());
            }
            o.interrupt.watch(null);
            Checkpoints.saveModule(o.out.resolve("model.safetensors"), vae,
                    Map.of("model", "vae", "latent", Integer.toString(o.latent)));
            pictures(vae, test, o.out, device, o.seed, curves);
            if (!o.noScore) {
                System.out.println("scoring " + GanRun.SCORED + " samples from the prior with "
                        + ScoringClassifier.describe(o.scorer) + "...");
                try (Cnn cnn = ScoringClassifier.open(o.scorer, device)) {
                    Generator sampler = new Generator(o.seed + 4);
                    ImageScore.Score score = new ImageScore(cnn, test, device).score(n -> vae.sample(n, sampler), GanRun.SCORED);
                    System.out.println("samples: " + score);
                    quality.put("frechet_distance", score.frechetDistance());
                    quality.put("class_counts", score.classCounts());
                    quality.put("min_class_fraction", score.minClassFraction());
                    quality.put("scored_with", ScoringClassifier.describe(o.scorer));
                }
            }
        }
        System.out.printf(Locale.ROOT, "test negative ELBO %.2f nats per image (reconstruction %.2f + KL %.2f) after %d "
                + "epoch(s); %,.0f training samples/s; pictures in %s%n", elbo.negativeElbo(), elbo.reconstruction(),
                elbo.kl(), o.epochs, log.samplesPerSecond(), o.out.toAbsolutePath());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("latent", o.latent);
        start.describe(m);
        m.put("test_negative_elbo", elbo.negativeElbo());
        m.put("test_reconstruction", elbo.reconstruction());
        m.put("test_kl", elbo.kl());
        m.putAll(quality);
        m.put("train_seconds", log.trainSeconds);
        m.put("train_samples_per_second", log.samplesPerSecond());
        m.put("per_epoch", log.epochs);
        return m;
    }

    static void pictures(Vae vae, Dataset test, Path out, Device device, long seed, LossCurves curves) throws IOException {
        try (Scope s = Scope.open(); NoGrad off = Autograd.noGrad()) {
            // Four rows of 8 test images, each followed by its reconstruction through the posterior mean.
            int n = 32;
            float[] inputs = Arrays.copyOf(test.features(), n * 784);
            float[] recon = vae.reconstruct(Tensor.of(device, inputs, n, 1, 28, 28)).toFloatArray();
            float[] both = new float[2 * n * 784];
            for (int row = 0; row < n / 8; row++) {
                System.arraycopy(inputs, row * 8 * 784, both, (2 * row) * 8 * 784, 8 * 784);
                System.arraycopy(recon, row * 8 * 784, both, (2 * row + 1) * 8 * 784, 8 * 784);
            }
            ImageGrid.write(out.resolve("vae_reconstructions.png"), both, 2 * n, 28, 28, 8, 2);
            ImageGrid.write(out.resolve("vae_samples.png"), vae.sample(64, new Generator(seed + 2)), 8, 2);
            if (vae.latentSize() == 2) latentPictures(vae, test, out, device);
        }
        if (!curves.curves().isEmpty()) {
            ImageGrid.lineChart(out.resolve("vae_loss.png"), curves.curves(), "VAE training loss (nats per image)",
                    "step / " + curves.pointEvery(), "nats", 800, 500);
        }
    }

    /** The decoded manifold over a 20 x 20 grid of Gaussian quantiles, and the test means coloured by class. */
    private static void latentPictures(Vae vae, Dataset test, Path out, Device device) throws IOException {
        int side = 20;
        float[] z = new float[side * side * 2];
        for (int i = 0; i < side; i++) {
            for (int j = 0; j < side; j++) {
                z[2 * (i * side + j)] = (float) normalQuantile((j + 0.5) / side);
                z[2 * (i * side + j) + 1] = (float) -normalQuantile((i + 0.5) / side);
            }
        }
        Tensor images = dev.kiln.ops.Ops.sigmoid(vae.decode(Tensor.of(device, z, side * side, 2)));
        ImageGrid.write(out.resolve("vae_manifold.png"), images.toFloatArray(), side * side, 28, 28, side, 1);
        int n = test.count();
        float[] xs = new float[n], ys = new float[n];
        BatchLoader loader = new BatchLoader(test, 1000, false, 0, device);
        int done = 0;
        for (BatchLoader.Batch b : loader.epoch()) {
            float[] mean = vae.encode(b.x()).mean().toFloatArray();
            for (int i = 0; i < b.size(); i++) {
                xs[done + i] = mean[2 * i];
                ys[done + i] = mean[2 * i + 1];
            }
            done += b.size();
        }
        ImageGrid.scatter(out.resolve("vae_latent.png"), xs, ys, test.labels(), test.classes(), 800);
    }

    /** The standard normal's quantile function (Acklam's rational approximation, relative error below 1.2e-9). */
    static double normalQuantile(double p) {
        double[] a = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
                -3.066479806614716e+01, 2.506628277459239e+00};
        double[] b = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
                -1.328068155288572e+01};
        double[] c = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
                4.374664141464968e+00, 2.938163982698783e+00};
        double[] d = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
        double q, r;
        if (p < 0.02425) {
            q = Math.sqrt(-2 * Math.log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - 0.02425) return -normalQuantile(1 - p);
        q = p - 0.5;
        r = q * q;
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
}

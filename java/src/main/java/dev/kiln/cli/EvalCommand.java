package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.data.Dataset;
import dev.kiln.data.FashionMnist;
import dev.kiln.eval.FashionClassifier;
import dev.kiln.eval.ImageScore;
import dev.kiln.models.Cnn;
import dev.kiln.models.Gan;
import dev.kiln.models.Vae;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Module;
import dev.kiln.train.Classification;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code kiln eval MODEL}: the number {@code kiln train} reports, recomputed from a saved model: the classifiers' test
 * accuracy, the VAE's test negative ELBO (z drawn from seed + 1, as training's evaluation does) or the GAN's quality
 * score (10,000 samples from seed + 4 through the cached classifier). With the training run's seed the figures match
 * its metrics.json.
 */
@Command(name = "eval", description = "Evaluate a saved model on the Fashion-MNIST test set: test accuracy (mlp, cnn, "
        + "rnn), test negative ELBO (vae) or the quality score of 10,000 samples (gan).")
final class EvalCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "mlp, cnn, rnn, vae or gan")
    String model;

    @Option(names = "--model-file", paramLabel = "F", description = "model.safetensors, a --save checkpoint, or any "
            + "safetensors file under Kiln's names (default: runs/MODEL/model.safetensors)")
    Path file;

    @Option(names = "--seed", defaultValue = "42", description = "The training run's seed, for the VAE's and GAN's noise "
            + "(default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or cuda:N (default: ${DEFAULT-VALUE})")
    String device;

    @Override
    public Integer call() throws Exception {
        String name = ModelFiles.checkName("kiln eval", model, ModelFiles.MODELS);
        if (file == null) file = ModelFiles.defaultFile(name);
        Device dev = Device.parse(device);
        Dataset test = FashionMnist.load(FashionMnist.Split.TEST);
        try (Module m = ModelFiles.open(name, file, dev)) {
            if (m instanceof Vae vae) {
                Vae.Elbo e = vae.evaluate(test, 1000, dev, seed + 1);
                System.out.printf(Locale.ROOT, "%s: test negative ELBO %.4f nats per image (reconstruction %.4f + KL %.4f)%n",
                        file, e.negativeElbo(), e.reconstruction(), e.kl());
            } else if (m instanceof Gan gan) {
                System.out.println("scoring " + GanRun.SCORED + " samples with the cached Fashion-MNIST classifier ("
                        + FashionClassifier.defaultFile() + "; trained on first use)...");
                try (Cnn cnn = FashionClassifier.load(FashionClassifier.defaultFile(), dev)) {
                    ImageScore.Score score = GanRun.samplesScore(new ImageScore(cnn, test, dev), gan, dev, seed);
                    System.out.println(file + ": samples: " + score);
                }
            } else {
                double accuracy = Classification.accuracy((Layer) m, test, 1000, dev);
                System.out.printf(Locale.ROOT, "%s: test accuracy %.2f%% (%d/%d correct)%n", file, 100 * accuracy,
                        Math.round(accuracy * test.count()), test.count());
            }
        }
        return 0;
    }
}

package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.data.Dataset;
import dev.kiln.data.DigitReversal;
import dev.kiln.data.FashionMnist;
import dev.kiln.data.TextCorpus;
import dev.kiln.eval.FashionClassifier;
import dev.kiln.eval.ImageScore;
import dev.kiln.models.Cnn;
import dev.kiln.models.Gan;
import dev.kiln.models.Transformer;
import dev.kiln.models.TransformerTasks;
import dev.kiln.models.Vae;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Module;
import dev.kiln.train.Classification;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code kiln eval MODEL}: the number {@code kiln train} reports, recomputed from a saved model: the classifiers' test
 * accuracy, the VAE's test negative ELBO (z drawn from seed + 1, as training's evaluation does), the GAN's quality
 * score (10,000 samples from seed + 4 through the cached classifier), the Transformer's exact match on the held-out
 * strings its seed draws, or the character model's held-out bits per character. With the training run's seed the
 * figures match its metrics.json.
 */
@Command(name = "eval", description = "Evaluate a saved model: Fashion-MNIST test accuracy (mlp, cnn, rnn), test "
        + "negative ELBO (vae) or the quality score of 10,000 samples (gan); exact match on the held-out strings "
        + "(transformer) or bits per character on the held-out fortunes (charlm).")
final class EvalCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "mlp, cnn, rnn, vae, gan, transformer or charlm")
    String model;

    @Option(names = "--model-file", paramLabel = "F", description = "model.safetensors, a --save checkpoint, or any "
            + "safetensors file under Kiln's names (default: runs/MODEL/model.safetensors)")
    Path file;

    @Option(names = "--seed", defaultValue = "42", description = "The training run's seed, for the VAE's and GAN's noise and the Transformer's held-out strings "
            + "(default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or cuda:N (default: ${DEFAULT-VALUE})")
    String device;

    @Override
    public Integer call() throws Exception {
        String name = ModelFiles.checkName("kiln eval", model, ModelFiles.MODELS);
        if (file == null) file = ModelFiles.defaultFile(name);
        Device dev = Device.parse(device);
        try (Module m = ModelFiles.open(name, file, dev)) {
            switch (name) {
                case "transformer" -> evalReversal((Transformer) m, dev);
                case "charlm" -> evalCharLm((Transformer) m, dev);
                default -> evalFashion(m, dev);
            }
        }
        return 0;
    }

    /** The exact match of greedy decodes on the training run's held-out strings (drawn from the seed, as training does). */
    private void evalReversal(Transformer m, Device dev) {
        DigitReversal task = TransformerRun.task(seed);
        double exact = TransformerTasks.exactMatch(m, task.heldOut(), dev, 250);
        System.out.printf(Locale.ROOT, "%s: exact match %.1f%% on %d held-out strings%n", file, 100 * exact,
                TransformerRun.HELD_OUT);
    }

    /** Bits per character on the held-out tenth of the fortunes, which must have the alphabet the file records. */
    private void evalCharLm(Transformer m, Device dev) throws IOException {
        TextCorpus corpus = TextCorpus.fortunes(TextCorpus.FORTUNES);
        String recorded = ModelFiles.alphabet(file).alphabet();
        if (!recorded.equals(corpus.alphabet())) {
            throw new IllegalArgumentException(file + " was trained on an alphabet of " + recorded.length()
                    + " characters, and the fortunes here have " + corpus.alphabet().length() + " (another fortunes version?)");
        }
        int context = Transformer.charLmConfig(corpus.vocab()).maxLength();
        double bpc = TransformerTasks.bitsPerCharacter(m, corpus, context, dev, 64);
        System.out.printf(Locale.ROOT, "%s: %.3f bits per character on the held-out fortunes (%,d characters)%n", file, bpc,
                corpus.validationLength());
    }

    private void evalFashion(Module m, Device dev) {
        Dataset test = FashionMnist.load(FashionMnist.Split.TEST);
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
}

package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.data.DigitReversal;
import dev.kiln.data.FashionMnist;
import dev.kiln.data.TextCorpus;
import dev.kiln.io.Checkpoints;
import dev.kiln.models.Transformer;
import dev.kiln.models.Vae;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the command line does with model files and options it cannot use: one clear line and exit status 1. */
class CliInputTest {
    @TempDir
    Path dir;

    /** Runs the command line; returns its output after checking the exit status. */
    private static String run(int expected, String... args) {
        int[] code = new int[1];
        String out = CliTest.captureAll(() -> code[0] = Main.run(args));
        assertEquals(expected, code[0], out);
        return out;
    }

    @Test
    void evalScoresASavedTransformer() throws IOException {
        Path f = dir.resolve("t.safetensors");
        try (Transformer m = Transformer.seq2seq(DigitReversal.VOCAB, DigitReversal.TARGET_LENGTH, Device.cpu(), new Generator(1))) {
            Checkpoints.saveModule(f, m, Map.of("model", "transformer"));
        }
        String out = run(0, "eval", "transformer", "--device", "cpu", "--model-file", f.toString());
        // Untrained, it reverses no string of 8 to 16 digits.
        assertTrue(out.contains("exact match 0.0% on 1000 held-out strings"), out);
    }

    @Test
    void evalScoresASavedCharacterModel() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(TextCorpus.FORTUNES), "fortunes not installed: SKIPPED");
        TextCorpus corpus = TextCorpus.fortunes(TextCorpus.FORTUNES);
        Path f = dir.resolve("lm.safetensors");
        try (Transformer m = Transformer.charLm(corpus.vocab(), Device.cpu(), new Generator(1))) {
            Checkpoints.saveModule(f, m, Map.of("model", "charlm", "alphabet", corpus.alphabet()));
        }
        String out = run(0, "eval", "charlm", "--device", "cpu", "--model-file", f.toString());
        java.util.regex.Matcher bits = java.util.regex.Pattern.compile("([0-9.]+) bits per character").matcher(out);
        assertTrue(bits.find(), out);
        // An untrained model is close to uniform over the alphabet: about log2(vocab) bits.
        double uniform = Math.log(corpus.vocab()) / Math.log(2);
        assertEquals(uniform, Double.parseDouble(bits.group(1)), 0.5, out);
    }

    @Test
    void aFolderAsModelFileIsRefusedByName() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("runs-vae"));
        String out = run(1, "sample", "vae", "--device", "cpu", "--model-file", folder.toString(), "--out", dir.toString());
        assertTrue(out.contains(folder + " is not a file"), out);
    }

    /** The VAE is built from the mean head's shape, never from a recorded size alone (which could ask for any memory). */
    @Test
    void aRecordedLatentSizeMustMatchTheMeanHead() throws IOException {
        Path f = dir.resolve("vae.safetensors");
        try (Vae vae = Vae.fashionMnist(4, Device.cpu(), new Generator(1))) {
            Checkpoints.saveModule(f, vae, Map.of("model", "vae", "latent", "50000000"));
        }
        String out = run(1, "sample", "vae", "--device", "cpu", "--model-file", f.toString(), "--out", dir.toString());
        assertTrue(out.contains("records latent size 50000000 but its mean head has 4 rows"), out);
    }

    @Test
    void aRecordedAlphabetMustBeSortedAndUnique() throws IOException {
        Path f = dir.resolve("lm.safetensors");
        try (Transformer m = Transformer.charLm(2, Device.cpu(), new Generator(1))) {
            Checkpoints.saveModule(f, m, Map.of("model", "charlm", "alphabet", "ba"));
        }
        String out = run(1, "sample", "charlm", "--device", "cpu", "--model-file", f.toString());
        assertTrue(out.contains("not in increasing order without repeats"), out);
    }

    @Test
    void anOutFolderThatIsAFileIsNamedWithTheReason() throws IOException {
        Path file = Files.writeString(dir.resolve("taken"), "x");
        String out = run(1, "train", "mlp", "--device", "cpu", "--out", file.toString());
        assertTrue(out.contains("kiln: " + file + ": already exists"), out);
    }

    /** An option of another model is refused, not ignored: `train mlp --latent 2` trained the MLP as if it were not there. */
    @Test
    void optionsOfOtherModelsAreRefused() {
        String out = run(1, "train", "mlp", "--device", "cpu", "--latent", "2", "--out", dir.resolve("a").toString());
        assertTrue(out.contains("--latent applies to vae only, not mlp"), out);
        out = run(1, "train", "cnn", "--device", "cpu", "--no-score", "--out", dir.resolve("b").toString());
        assertTrue(out.contains("--no-score applies to vae and gan only, not cnn"), out);
    }

    @Test
    void badLearningRateSchedulesAreRefused() {
        String out = run(1, "train", "transformer", "--device", "cpu", "--lr-schedule", "linear", "--out", dir.resolve("a").toString());
        assertTrue(out.contains("--lr-schedule is constant or cosine, got 'linear'"), out);
        out = run(1, "train", "transformer", "--device", "cpu", "--warmup", "10", "--out", dir.resolve("b").toString());
        assertTrue(out.contains("--warmup applies to --lr-schedule cosine"), out);
        out = run(1, "train", "transformer", "--device", "cpu", "--lr-schedule", "cosine", "--steps", "20", "--warmup", "20",
                "--out", dir.resolve("c").toString());
        assertTrue(out.contains("--warmup 20 must be below the run's 20 steps"), out);
    }

    @Test
    void aLimitPastTheDataIsRefused() {
        Assumptions.assumeTrue(FashionMnist.isAvailable(), "Fashion-MNIST not installed: SKIPPED");
        String out = run(1, "train", "mlp", "--device", "cpu", "--limit", "100000", "--out", dir.resolve("out").toString());
        assertTrue(out.contains("--limit 100000 is more than the 60000 training images"), out);
    }

    /** The demo report shows the highest-numbered grid as the last epoch's: a shorter run removes a longer one's. */
    @Test
    void aGanRunRemovesTheGridsOfLaterEpochs() throws IOException {
        for (String name : List.of("gan_epoch_01.png", "gan_epoch_04.png", "gan_epoch_05.png", "gan_epoch_12.png",
                "gan_epoch_99999999999.png", "gan_loss.png")) {
            Files.writeString(dir.resolve(name), "x");
        }
        GanRun.removeLaterGrids(dir, 4);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("gan_epoch_01.png", "gan_epoch_04.png", "gan_loss.png"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}

package dev.kiln.cli;

import dev.kiln.data.FashionMnist;
import dev.kiln.eval.FashionClassifier;
import dev.kiln.io.TrainingCheckpoint;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kiln eval} and {@code kiln sample} read what {@code kiln train} saved, the model file and the --save
 * checkpoint alike, and recompute the figures of its metrics.json.
 */
class EvalCommandTest {
    @BeforeEach
    void needsData() {
        Assumptions.assumeTrue(FashionMnist.isAvailable(), "Fashion-MNIST not installed: SKIPPED");
    }

    @Test
    void evalRecomputesTheClassifiersTestAccuracy(@TempDir Path dir) throws IOException {
        ResumeTest.train("mlp", dir, 1, false);
        double trained = number(Files.readString(dir.resolve("out/metrics.json")), "\"test_accuracy\": ([0-9.eE+-]+)");
        for (Path file : new Path[] {dir.resolve("out/model.safetensors"), dir.resolve(TrainingCheckpoint.FILE_NAME)}) {
            String out = run("eval", "mlp", "--device", "cpu", "--model-file", file.toString());
            assertEquals(Math.round(trained * 10_000), (long) number(out, "\\((\\d+)/10000 correct\\)"), out);
        }
        String wrong = CliTest.captureAll(() -> assertEquals(1, Main.run("eval", "cnn", "--device", "cpu", "--model-file",
                dir.resolve("out/model.safetensors").toString())));
        assertTrue(wrong.contains("holds a 'mlp' model, not cnn"), wrong);
    }

    @Test
    void evalAndSampleReadTheVaeAndTheGan(@TempDir Path dir) throws IOException {
        Path vae = dir.resolve("vae"), gan = dir.resolve("gan");
        ResumeTest.train("vae", vae, 1, false, "--latent", "4");
        double trained = number(Files.readString(vae.resolve("out/metrics.json")), "\"test_negative_elbo\": ([0-9.eE+-]+)");
        String out = run("eval", "vae", "--device", "cpu", "--model-file", vae.resolve(TrainingCheckpoint.FILE_NAME).toString());
        assertEquals(trained, number(out, "test negative ELBO ([0-9.]+) nats"), 1e-3 * trained, out);
        out = run("sample", "vae", "--device", "cpu", "--n", "4", "--model-file",
                vae.resolve(TrainingCheckpoint.FILE_NAME).toString(), "--out", vae.toString());
        assertTrue(Files.size(vae.resolve("vae_sample_4.png")) > 0, out);

        ResumeTest.train("gan", gan, 1, false, "--limit", "512");
        run("sample", "gan", "--device", "cpu", "--n", "4", "--model-file", gan.resolve(TrainingCheckpoint.FILE_NAME).toString(),
                "--out", gan.toString());
        assertTrue(Files.size(gan.resolve("gan_sample_4.png")) > 0);
        // The quality score needs the cached classifier; training it here would take minutes.
        Assumptions.assumeTrue(Files.exists(FashionClassifier.defaultFile()), "no cached classifier: the GAN's score is SKIPPED");
        out = run("eval", "gan", "--device", "cpu", "--model-file", gan.resolve("out/model.safetensors").toString());
        assertTrue(out.contains("samples: FD ") && out.contains("classes ["), out);
    }

    private static String run(String... args) {
        int[] code = new int[1];
        String out = CliTest.captureAll(() -> code[0] = Main.run(args));
        assertEquals(0, code[0], out);
        return out;
    }

    private static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no " + regex + " in: " + text);
        return Double.parseDouble(m.group(1));
    }
}

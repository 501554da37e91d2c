package dev.kiln.cli;

import dev.kiln.data.FashionMnist;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliTest {
    private static String capture(Runnable r) {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        try {
            r.run();
        } finally {
            System.setOut(saved);
        }
        return buf.toString();
    }

    /** What {@code r} prints on stdout and stderr together (the CLI reports failures on stderr). */
    static String captureAll(Runnable r) {
        PrintStream savedOut = System.out, savedErr = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream both = new PrintStream(buf, true);
        System.setOut(both);
        System.setErr(both);
        try {
            r.run();
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
        return buf.toString();
    }

    @Test
    void infoNamesTheBuildAndTheDevices() {
        String out = capture(() -> assertEquals(0, Main.run("info")));
        assertTrue(out.contains("build:   kiln ") && out.contains("cpu:     ") && out.contains("cuda"), out);
    }

    /** Every command's help renders its options as written: picocli warns (on stderr) of a '%' it cannot format. */
    @Test
    void everyCommandsHelpFormats() {
        for (String command : List.of("info", "train", "sample", "eval", "demo", "bench")) {
            String out = captureAll(() -> assertEquals(0, Main.run(command, "--help")));
            assertTrue(out.startsWith("Usage: kiln " + command) && !out.contains("WARN"), out);
        }
        String out = captureAll(() -> Main.run("train", "--help"));
        assertTrue(out.contains("(default: 5% of"), out);
    }

    @Test
    void unknownModelsAndDevicesAreClearErrors() {
        assertEquals(1, Main.run("train", "resnet"));
        assertEquals(2, Main.run("train"));  // missing MODEL: usage error
    }

    @Test
    void trainWritesMetrics(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(FashionMnist.isAvailable(), "Fashion-MNIST not installed: SKIPPED");
        String out = capture(() -> assertEquals(0, Main.run("train", "mlp", "--device", "cpu", "--epochs", "1",
                "--batch", "128", "--out", dir.toString())));
        assertTrue(out.contains("test accuracy"), out);
        String json = Files.readString(dir.resolve("metrics.json"));
        assertTrue(json.contains("\"model\": \"mlp\"") && json.contains("\"test_accuracy\": 0.8"), json);
    }

    /** One VAE epoch with a 2-d latent: metrics, the saved model, every picture (read back), and `kiln sample`. */
    @Test
    void trainVaeWritesPicturesAndSampleReadsTheModel(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(FashionMnist.isAvailable(), "Fashion-MNIST not installed: SKIPPED");
        String out = capture(() -> assertEquals(0, Main.run("train", "vae", "--device", "cpu", "--epochs", "1",
                "--latent", "2", "--no-score", "--out", dir.toString())));
        assertTrue(out.contains("test negative ELBO"), out);
        String json = Files.readString(dir.resolve("metrics.json"));
        assertTrue(json.contains("\"model\": \"vae\"") && json.contains("\"test_negative_elbo\"") && json.contains("\"latent\": 2"), json);
        int[][] sizes = {{2 + 8 * 58, 2 + 8 * 58}, {2 + 8 * 58, 2 + 8 * 58}, {2 + 20 * 30, 2 + 20 * 30}, {800, 800}, {800, 500}};
        String[] names = {"vae_reconstructions.png", "vae_samples.png", "vae_manifold.png", "vae_latent.png", "vae_loss.png"};
        for (int i = 0; i < names.length; i++) {
            java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(dir.resolve(names[i]).toFile());
            assertEquals(sizes[i][0], img.getWidth(), names[i]);
            assertEquals(sizes[i][1], img.getHeight(), names[i]);
        }
        String sampled = capture(() -> assertEquals(0, Main.run("sample", "vae", "--n", "9", "--model-file",
                dir.resolve("model.safetensors").toString(), "--out", dir.toString())));
        assertTrue(sampled.contains("vae_sample_9.png"), sampled);
        assertEquals(2 + 3 * 58, javax.imageio.ImageIO.read(dir.resolve("vae_sample_9.png").toFile()).getWidth());
        assertEquals(1, Main.run("sample", "gan", "--model-file", dir.resolve("model.safetensors").toString()),
                "a VAE file is not a GAN");
    }
}

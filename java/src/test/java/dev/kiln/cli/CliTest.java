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

    @Test
    void infoNamesTheBuildAndTheDevices() {
        String out = capture(() -> assertEquals(0, Main.run("info")));
        assertTrue(out.contains("build:   kiln ") && out.contains("cpu:     ") && out.contains("cuda"), out);
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
}

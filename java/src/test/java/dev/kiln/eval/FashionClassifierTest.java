package dev.kiln.eval;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.io.Checkpoints;
import dev.kiln.models.Cnn;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cached classifier is used only when its header names this recipe; anything else is retrained from scratch. */
class FashionClassifierTest {
    @Test
    void onlyAFileOfThisRecipeIsCurrent(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("fashion-cnn.safetensors");
        assertFalse(FashionClassifier.isCurrent(f), "missing");
        assertFalse(FashionClassifier.isCurrent(Files.createDirectory(dir.resolve("folder"))), "a folder");
        try (Cnn cnn = Cnn.fashionMnist(Device.cpu(), new Generator(7))) {
            Checkpoints.saveModule(f, cnn, Map.of("recipe", "cnn-adam1e-3-b64-e3-seed42-v1"));
            assertFalse(FashionClassifier.isCurrent(f), "another recipe");
            Checkpoints.saveModule(f, cnn, Map.of());
            assertFalse(FashionClassifier.isCurrent(f), "no recipe");
            Checkpoints.saveModule(f, cnn, Map.of("recipe", FashionClassifier.RECIPE));
            assertTrue(FashionClassifier.isCurrent(f));
        }
    }
}

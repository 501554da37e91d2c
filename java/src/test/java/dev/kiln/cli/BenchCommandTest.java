package dev.kiln.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchCommandTest {
    /** {@code kiln bench --flush-l2} on the CPU: it runs, and says (table header and JSON) that the flush does nothing there. */
    @Test
    void flushL2OnTheCpuIsANamedNoOp(@TempDir Path dir) throws IOException {
        Path json = dir.resolve("bench.json");
        String out = CliTest.captureAll(() -> assertEquals(0, Main.run("bench", "--device", "cpu", "--family", "gemm",
                "--samples", "2", "--sample-ms", "1", "--flush-l2", "--json", json.toString())));
        assertTrue(out.contains("clock: wall") && out.contains("L2: flush: no-op on cpu"), out);
        assertTrue(out.contains("| gemm | gemm 64x784x256"), out);
        String doc = Files.readString(json);
        assertTrue(doc.contains("\"clock\": \"wall\"") && doc.contains("\"l2\": \"flush: no-op on cpu\""), doc);
    }

    @Test
    void helpDescribesTheFlush() {
        String out = CliTest.captureAll(() -> Main.run("bench", "--help")).replaceAll("\\s+", " ");
        assertTrue(out.contains("--flush-l2") && out.contains("On the CPU the") && out.contains("flush does nothing"), out);
    }
}

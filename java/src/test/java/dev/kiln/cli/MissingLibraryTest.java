package dev.kiln.cli;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Without its native library the command line still answers: --version says the library did not load, and a command
 * fails with the loader's message and exit status 1, not a stack trace (picocli asks for the version while it builds
 * the command line, which used to throw there).
 */
class MissingLibraryTest {
    private static final List<String> NO_LIBRARY = List.of("-Dkiln.library.path=/nonexistent/libkiln.so");

    private static String run(List<String> args, int wantExit) throws Exception {
        Process p = KilnProcess.start(NO_LIBRARY, args);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertEquals(wantExit, p.exitValue(), out);
        assertFalse(out.contains("Exception") || out.contains("\tat "), out);
        return out;
    }

    @Test
    void versionSaysTheLibraryDidNotLoad() throws Exception {
        String out = run(List.of("--version"), 0);
        assertTrue(out.contains("native library not loaded") && out.contains("/nonexistent/libkiln.so"), out);
    }

    @Test
    void aCommandFailsWithTheLoadersMessage() throws Exception {
        String out = run(List.of("info"), 1);
        assertTrue(out.contains("kiln: Kiln could not load its native library"), out);
    }
}

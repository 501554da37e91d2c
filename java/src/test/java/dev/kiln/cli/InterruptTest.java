package dev.kiln.cli;

import dev.kiln.io.SafeTensors;
import dev.kiln.io.TrainingCheckpoint;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Ctrl-C: SIGINT sent to a `kiln train` in a JVM of its own, once its progress line shows it training. It must
 * stop after the step in progress, save that step, say how to continue, and exit with 130; `--resume` then finishes
 * the run. (ResumeTest checks, in process, that a stopped and resumed run has the bits of an uninterrupted one.)
 */
class InterruptTest {
    @Test
    void sigintStopsAfterTheStepSavesItAndExitsWith130(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(new ProcessBuilder("env", "--default-signal=INT", "true").start().waitFor() == 0,
                "no GNU env (coreutils 8.31+) to start the child with SIGINT at its default: SKIPPED");
        Path save = dir.resolve("save");
        List<String> train = List.of("train", "transformer", "--device", "cpu", "--steps", "3000", "--batch", "8",
                "--out", dir.resolve("out").toString(), "--save", save.toString());
        Process p = KilnProcess.start(List.of(), train);
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            boolean sent = false;
            while ((line = r.readLine()) != null) {
                out.append(line).append('\n');
                if (!sent && line.startsWith("step ")) {  // the progress line of step 1: it is training
                    assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor());
                    sent = true;
                }
            }
        } finally {
            if (!p.waitFor(120, TimeUnit.SECONDS)) p.destroyForcibly();
        }
        assertEquals(130, p.exitValue(), out.toString());
        assertTrue(out.toString().contains("kiln: stopping after this step (Ctrl-C again to quit at once)"), out.toString());
        assertTrue(out.toString().contains(save.resolve(TrainingCheckpoint.FILE_NAME) + " holds it: the same command with "
                + "--resume continues"), out.toString());
        long step = Long.parseLong(SafeTensors.readHeader(save.resolve(TrainingCheckpoint.FILE_NAME)).metadata().get("state.step"));
        assertTrue(step >= 1 && step < 3000, "stopped at step " + step + " of 3000, after the first progress line");
        assertTrue(out.toString().contains("stopped after step " + step + ";"), out.toString());
        assertTrue(!Files.exists(dir.resolve("out/metrics.json")), "a stopped run writes no final metrics");

        // The same command with --resume (and fewer steps in all, to keep this short) continues from that step.
        List<String> resume = new java.util.ArrayList<>(train);
        resume.set(resume.indexOf("3000"), Long.toString(step + 2));
        resume.add("--resume");
        Process q = KilnProcess.start(List.of(), resume);
        String resumed = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(q.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, q.exitValue(), resumed);
        assertTrue(resumed.contains("resumed from " + save.resolve(TrainingCheckpoint.FILE_NAME) + " after step " + step), resumed);
        assertEquals(Long.toString(step + 2),
                SafeTensors.readHeader(save.resolve(TrainingCheckpoint.FILE_NAME)).metadata().get("state.step"));
    }
}

package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.Tensor;
import dev.kiln.data.FashionMnist;
import dev.kiln.data.TextCorpus;
import dev.kiln.io.LoadedTensors;
import dev.kiln.io.SafeTensors;
import dev.kiln.io.TrainingCheckpoint;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kiln train --save DIR --resume}: two epochs straight and one epoch then a resumed one give the same bits (the
 * model, both Adam moments, the step counts, the generator offsets), for the MLP and for the VAE, whose training
 * draws noise; likewise a Transformer or character-model run counted in steps, stopped and resumed mid-way. A
 * checkpoint of another model or configuration is refused with the difference named. A first-2048-images --limit
 * (short --steps) keeps the runs short.
 */
class ResumeTest {
    private static final String LIMIT = "2048";

    @BeforeEach
    void needsData() {
        Assumptions.assumeTrue(FashionMnist.isAvailable(), "Fashion-MNIST not installed: SKIPPED");
    }

    @Test
    void mlpResumedAfterOneEpochEqualsTwoStraightEpochs(@TempDir Path dir) throws IOException {
        straightAndResumedAgree(dir, "mlp");
    }

    @Test
    void vaeResumedAfterOneEpochEqualsTwoStraightEpochs(@TempDir Path dir) throws IOException {
        straightAndResumedAgree(dir, "vae");
    }

    private static void straightAndResumedAgree(Path dir, String model) throws IOException {
        Path straight = dir.resolve("straight"), resumed = dir.resolve("resumed");
        train(model, straight, 2, false);
        train(model, resumed, 1, false);
        Map<String, String> afterOne = SafeTensors.readHeader(resumed.resolve(TrainingCheckpoint.FILE_NAME)).metadata();
        assertEquals("1", afterOne.get("state.epoch"));
        String out = train(model, resumed, 2, true);
        assertTrue(out.contains("resumed from") && out.contains("after epoch 1"), out);

        Path a = straight.resolve(TrainingCheckpoint.FILE_NAME), b = resumed.resolve(TrainingCheckpoint.FILE_NAME);
        assertSameTensors(a, b);
        Map<String, String> meta = SafeTensors.readHeader(b).metadata();
        assertEquals("2", meta.get("state.epoch"));
        assertEquals("16", meta.get("state.step"), "2 epochs of 2048 images in batches of 256");
        assertEquals("16", meta.get("kiln.optimizer.0.steps"));
        assertEquals(SafeTensors.readHeader(a).metadata(), meta, "same counters and generator offsets");
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "the two checkpoint files are byte-identical");
        assertSameTensors(straight.resolve("out/model.safetensors"), resumed.resolve("out/model.safetensors"));
        String metrics = Files.readString(resumed.resolve("out/metrics.json"));
        assertTrue(metrics.contains("\"resumed_after_epoch\": 1"), metrics);
    }

    @Test
    void resumingAnotherModelOrConfigurationIsRefused(@TempDir Path dir) throws IOException {
        train("mlp", dir, 1, false, "--limit", "512");
        Path file = dir.resolve(TrainingCheckpoint.FILE_NAME);
        byte[] before = Files.readAllBytes(file);
        assertRefused(dir, "model: the checkpoint has 'mlp', this run 'cnn'", "cnn", "--limit", "512");
        assertRefused(dir, "lr: the checkpoint has '0.001', this run '0.002'", "mlp", "--limit", "512", "--lr", "0.002");
        assertRefused(dir, "train_images: the checkpoint has '512', this run '1024'", "mlp", "--limit", "1024");
        assertRefused(dir, "already holds 1 epoch(s); --epochs 1 asks for no more", "mlp", "--limit", "512", "--epochs", "1");
        assertArrayEquals(before, Files.readAllBytes(file), "a refused resume leaves the checkpoint alone");

        Path vae = dir.resolve("vae");
        train("vae", vae, 1, false, "--limit", "512", "--latent", "2");
        assertRefused(vae, "latent: the checkpoint has '2', this run '3'", "vae", "--limit", "512", "--latent", "3");
        assertRefused(dir.resolve("empty"), "there is no checkpoint to continue", "mlp");

        // A fresh run (no --resume) into a folder that holds a checkpoint would replace it at its first save.
        String[] code = new String[1];
        String out = CliTest.captureAll(() -> code[0] = Integer.toString(Main.run("train", "cnn", "--device", "cpu", "--limit", "512",
                "--out", dir.resolve("fresh").toString(), "--save", dir.toString())));
        assertEquals("1", code[0], out);
        assertTrue(out.contains("--save " + dir + " already holds a checkpoint (mlp, step 2): continue it with --resume"), out);
        assertArrayEquals(before, Files.readAllBytes(file), "a refused fresh run leaves the checkpoint alone");
    }

    @Test
    void transformerResumedMidRunEqualsAStraightRun(@TempDir Path dir) throws IOException {
        straightAndResumedStepsAgree(dir, "transformer", 6, 3, "--batch", "8");
    }

    /** 60 steps straight save at 50 and 60; 30 + 30 at 30 and 60, so the resumed run's segments are cut elsewhere. */
    @Test
    void charLmResumedMidRunEqualsAStraightRun(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(TextCorpus.FORTUNES), "fortunes not installed: SKIPPED");
        straightAndResumedStepsAgree(dir, "charlm", 60, 30, "--batch", "2");
        // The checkpoint records the alphabet, so `kiln sample` reads it as it reads model.safetensors.
        String[] code = new String[1];
        String out = CliTest.captureAll(() -> code[0] = Integer.toString(Main.run(new String[] {"sample", "charlm", "--device", "cpu",
                "--model-file", dir.resolve("resumed").resolve(TrainingCheckpoint.FILE_NAME).toString(), "--tokens", "20"})));
        assertEquals("0", code[0], out);
    }

    @Test
    void resumingAStepRunRefusesAnotherConfigurationOrNoMoreSteps(@TempDir Path dir) throws IOException {
        trainSteps("transformer", dir, 2, false, "--batch", "4");
        Path file = dir.resolve(TrainingCheckpoint.FILE_NAME);
        byte[] before = Files.readAllBytes(file);
        assertStepsRefused(dir, "batch: the checkpoint has '4', this run '8'", "transformer", "--steps", "4", "--batch", "8");
        assertStepsRefused(dir, "already holds 2 step(s); --steps 2 asks for no more", "transformer", "--steps", "2", "--batch", "4");
        assertStepsRefused(dir, "model: the checkpoint has 'transformer', this run 'charlm'", "charlm", "--steps", "4", "--batch", "4");
        assertArrayEquals(before, Files.readAllBytes(file), "a refused resume leaves the checkpoint alone");
        assertStepsRefused(dir, "--limit and --epochs apply to the Fashion-MNIST models only", "transformer", "--steps", "4",
                "--epochs", "2");
    }

    private static void straightAndResumedStepsAgree(Path dir, String model, int steps, int first, String... extra)
            throws IOException {
        Path straight = dir.resolve("straight"), resumed = dir.resolve("resumed");
        trainSteps(model, straight, steps, false, extra);
        trainSteps(model, resumed, first, false, extra);
        assertEquals(Integer.toString(first), SafeTensors.readHeader(resumed.resolve(TrainingCheckpoint.FILE_NAME)).metadata()
                .get("state.step"));
        String out = trainSteps(model, resumed, steps, true, extra);
        assertTrue(out.contains("resumed from") && out.contains("after step " + first), out);
        assertTrue(out.contains("step " + steps + "/" + steps), "the progress line counts the checkpoint's steps: " + out);

        Path a = straight.resolve(TrainingCheckpoint.FILE_NAME), b = resumed.resolve(TrainingCheckpoint.FILE_NAME);
        assertSameTensors(a, b);
        Map<String, String> meta = SafeTensors.readHeader(b).metadata();
        assertEquals(Integer.toString(steps), meta.get("state.step"));
        assertEquals(Integer.toString(steps), meta.get("kiln.optimizer.0.steps"));
        assertEquals(SafeTensors.readHeader(a).metadata(), meta, "same configuration and counters");
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "the two checkpoint files are byte-identical");
        assertSameTensors(straight.resolve("out/model.safetensors"), resumed.resolve("out/model.safetensors"));
        String metrics = Files.readString(resumed.resolve("out/metrics.json"));
        assertTrue(metrics.contains("\"resumed_after_step\": " + first), metrics);
    }

    /** `kiln train MODEL --steps N` on the CPU; the checkpoint goes to {@code save}, the rest to save/out. */
    private static String trainSteps(String model, Path save, int steps, boolean resume, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", model, "--device", "cpu", "--steps", Integer.toString(steps),
                "--out", save.resolve("out").toString(), "--save", save.toString()));
        args.addAll(List.of(extra));
        if (resume) args.add("--resume");
        int[] code = new int[1];
        String out = CliTest.captureAll(() -> code[0] = Main.run(args.toArray(String[]::new)));
        assertEquals(0, code[0], out);
        return out;
    }

    /** A resume of {@code args} (a run counted in steps) from {@code save} exits with 1 and prints {@code expected}. */
    private static void assertStepsRefused(Path save, String expected, String... args) {
        List<String> cmd = new ArrayList<>(List.of("train"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--device", "cpu", "--out", save.resolve("refused").toString(), "--save", save.toString(), "--resume"));
        String[] printed = new String[1];
        String out = CliTest.captureAll(() -> printed[0] = Integer.toString(Main.run(cmd.toArray(String[]::new))));
        assertEquals("1", printed[0], out);
        assertTrue(out.contains(expected), "expected '" + expected + "' in: " + out);
    }

    /**
     * Ctrl-C part-way through an epoch: the run stops after the step in progress and saves it, and resuming gives the
     * bits of an uninterrupted run. The MLP stops at batch 5 of 8 in epoch 1, resumes and stops again at batch 3 of
     * epoch 2 (so a resumed, part-trained epoch is stopped too), and resumes to the end.
     */
    @Test
    void mlpStoppedMidEpochTwiceThenResumedEqualsAStraightRun(@TempDir Path dir) throws IOException {
        Path straight = dir.resolve("straight"), stopped = dir.resolve("stopped");
        train("mlp", straight, 2, false);
        String out = trainStopped(1, 5, "mlp", "--epochs", "2", "--batch", "256", "--limit", LIMIT, "--save", stopped.toString());
        assertTrue(out.contains("stopped in epoch 1 after batch 5 of 8; " + stopped.resolve(TrainingCheckpoint.FILE_NAME)
                + " holds it: the same command with --resume continues"), out);
        Map<String, String> meta = SafeTensors.readHeader(stopped.resolve(TrainingCheckpoint.FILE_NAME)).metadata();
        assertEquals(List.of("0", "5", "5"), List.of(meta.get("state.epoch"), meta.get("state.epoch_batches"), meta.get("state.step")));
        out = trainStopped(2, 3, "mlp", "--epochs", "2", "--batch", "256", "--limit", LIMIT, "--save", stopped.toString(), "--resume");
        assertTrue(out.contains("in epoch 1 after batch 5 of 8 (5 steps)") && out.contains("stopped in epoch 2 after batch 3 of 8"), out);
        out = train("mlp", stopped, 2, true);
        assertTrue(out.contains("in epoch 2 after batch 3 of 8 (11 steps)"), out);
        assertArrayEquals(Files.readAllBytes(straight.resolve(TrainingCheckpoint.FILE_NAME)),
                Files.readAllBytes(stopped.resolve(TrainingCheckpoint.FILE_NAME)), "the two checkpoint files are byte-identical");
        assertSameTensors(straight.resolve("out/model.safetensors"), stopped.resolve("out/model.safetensors"));
        assertTrue(Files.readString(stopped.resolve("out/metrics.json")).contains("\"resumed_after_batch\": 3"));
    }

    /**
     * The VAE and the GAN draw noise every step (the GAN with two optimizers): a stop mid-epoch saves each generator's
     * offset at that step.
     */
    @ParameterizedTest
    @ValueSource(strings = {"vae", "gan"})
    void generativeModelStoppedMidEpochThenResumedEqualsAStraightRun(String model, @TempDir Path dir) throws IOException {
        Path straight = dir.resolve("straight"), stopped = dir.resolve("stopped");
        train(model, straight, 1, false);
        trainStopped(1, 6, model, "--epochs", "1", "--batch", "256", "--limit", LIMIT, "--no-score", "--save", stopped.toString());
        train(model, stopped, 1, true);
        assertArrayEquals(Files.readAllBytes(straight.resolve(TrainingCheckpoint.FILE_NAME)),
                Files.readAllBytes(stopped.resolve(TrainingCheckpoint.FILE_NAME)), "the two checkpoint files are byte-identical");
    }

    @Test
    void transformerStoppedMidSegmentThenResumedEqualsAStraightRun(@TempDir Path dir) throws IOException {
        Path straight = dir.resolve("straight"), stopped = dir.resolve("stopped");
        trainSteps("transformer", straight, 6, false, "--batch", "8");
        String out = trainStopped(1, 4, "transformer", "--steps", "6", "--batch", "8", "--save", stopped.toString());
        assertTrue(out.contains("stopped after step 4; "), out);
        trainSteps("transformer", stopped, 6, true, "--batch", "8");
        assertArrayEquals(Files.readAllBytes(straight.resolve(TrainingCheckpoint.FILE_NAME)),
                Files.readAllBytes(stopped.resolve(TrainingCheckpoint.FILE_NAME)), "the two checkpoint files are byte-identical");
        // Without --save a stop says that nothing was kept; under --profile the trace of the steps taken is written.
        Path trace = dir.resolve("trace.json");
        out = trainStopped(1, 2, "transformer", "--steps", "6", "--batch", "8", "--out", dir.resolve("unsaved").toString(),
                "--profile", trace.toString());
        assertTrue(out.contains("stopped after step 2; nothing saved (--save DIR keeps a run's progress)"), out);
        assertTrue(out.contains("profile: ") && Files.readString(trace).contains("\"step 2\""), out);
        assertTrue(!Files.readString(trace).contains("\"step 3\""), "the trace ends with the step Ctrl-C stopped after");
    }

    /**
     * A cosine schedule is a function of the step over the run's length: a stopped run resumes on it bit for bit, and
     * a resume that would change the length (so the schedule) is refused.
     */
    @Test
    void aCosineScheduleResumesExactlyAndItsLengthMustMatch(@TempDir Path dir) throws IOException {
        Path straight = dir.resolve("straight"), stopped = dir.resolve("stopped");
        String[] cosine = {"--batch", "8", "--lr-schedule", "cosine", "--warmup", "2"};
        trainSteps("transformer", straight, 6, false, cosine);
        List<String> args = new ArrayList<>(List.of("transformer", "--steps", "6", "--save", stopped.toString()));
        args.addAll(List.of(cosine));
        trainStopped(1, 4, args.toArray(String[]::new));
        assertEquals("cosine, warmup 2, 6 steps, final 0.1", SafeTensors.readHeader(stopped.resolve(TrainingCheckpoint.FILE_NAME))
                .metadata().get("config.lr_schedule"));
        List<String> longer = new ArrayList<>(List.of("transformer", "--steps", "8"));
        longer.addAll(List.of(cosine));
        assertStepsRefused(stopped, "lr_schedule: the checkpoint has 'cosine, warmup 2, 6 steps, final 0.1', this run "
                + "'cosine, warmup 2, 8 steps, final 0.1'", longer.toArray(String[]::new));
        trainSteps("transformer", stopped, 6, true, cosine);
        assertArrayEquals(Files.readAllBytes(straight.resolve(TrainingCheckpoint.FILE_NAME)),
                Files.readAllBytes(stopped.resolve(TrainingCheckpoint.FILE_NAME)), "the two checkpoint files are byte-identical");
        assertSameTensors(straight.resolve("out/model.safetensors"), stopped.resolve("out/model.safetensors"));
    }

    /**
     * `kiln train ARGS` (on the CPU, into save/out unless --out is given) with Ctrl-C arriving during step
     * {@code batch} of epoch (or segment) {@code epoch}: returns what it printed, the stop's message last.
     */
    private static String trainStopped(int epoch, int batch, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--device", "cpu"));
        int save = all.indexOf("--save");
        if (!all.contains("--out")) all.addAll(List.of("--out", Path.of(save >= 0 ? all.get(save + 1) : ".").resolve("out").toString()));
        TrainCommand train = new TrainCommand();
        new picocli.CommandLine(train).parseArgs(all.toArray(String[]::new));
        Interrupt interrupt = Interrupt.none();
        train.interrupt = interrupt;
        train.observer = (e, b, count, samples, means) -> {
            if (e == epoch && b == batch) interrupt.request();
        };
        String[] message = new String[1];
        String out = CliTest.captureAll(() -> message[0] = org.junit.jupiter.api.Assertions.assertThrows(Interrupt.Stopped.class,
                train::run).getMessage());
        return out + message[0];
    }

    /** The models whose runs score samples (and take --no-score). */
    private static final List<String> SCORED = List.of("vae", "gan");

    /** A resume of {@code args} from {@code save} exits with 1 and prints {@code expected}. */
    private static void assertRefused(Path save, String expected, String... args) {
        List<String> cmd = new ArrayList<>(List.of("train"));
        cmd.addAll(List.of(args));
        if (!cmd.contains("--epochs")) cmd.addAll(List.of("--epochs", "3"));
        if (SCORED.contains(args[0])) cmd.add("--no-score");
        cmd.addAll(List.of("--device", "cpu", "--batch", "256", "--out", save.resolve("refused").toString(),
                "--save", save.toString(), "--resume"));
        String[] printed = new String[1];
        String out = CliTest.captureAll(() -> printed[0] = Integer.toString(Main.run(cmd.toArray(String[]::new))));
        assertEquals("1", printed[0], out);
        assertTrue(out.contains(expected), "expected '" + expected + "' in: " + out);
    }

    /** `kiln train MODEL` on the first images; the checkpoint goes to {@code save}, the rest to save/out. */
    static String train(String model, Path save, int epochs, boolean resume, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", model, "--device", "cpu", "--epochs", Integer.toString(epochs),
                "--batch", "256", "--out", save.resolve("out").toString(), "--save", save.toString()));
        if (SCORED.contains(model)) args.add("--no-score");  // the others refuse the option
        args.addAll(List.of(extra));
        if (!args.contains("--limit")) args.addAll(List.of("--limit", LIMIT));
        if (resume) args.add("--resume");
        int[] code = new int[1];
        String out = CliTest.captureAll(() -> code[0] = Main.run(args.toArray(String[]::new)));
        assertEquals(0, code[0], out);
        return out;
    }

    /** Same names, shapes, dtypes and bits, tensor by tensor (the message names the first that differs). */
    static void assertSameTensors(Path a, Path b) throws IOException {
        try (LoadedTensors x = SafeTensors.load(a, Device.cpu()); LoadedTensors y = SafeTensors.load(b, Device.cpu())) {
            assertEquals(x.tensors().keySet(), y.tensors().keySet());
            for (Map.Entry<String, Tensor> e : x.tensors().entrySet()) {
                Tensor s = e.getValue(), t = y.tensors().get(e.getKey());
                assertArrayEquals(s.shape(), t.shape(), e.getKey());
                assertArrayEquals(bits(s.toFloatArray()), bits(t.toFloatArray()), e.getKey() + " differs");
            }
        }
    }

    private static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) out[i] = Float.floatToRawIntBits(v[i]);
        return out;
    }
}

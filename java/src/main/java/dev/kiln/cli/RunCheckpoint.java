package dev.kiln.cli;

import dev.kiln.Generator;
import dev.kiln.data.BatchLoader;
import dev.kiln.io.CheckpointException;
import dev.kiln.io.TrainingCheckpoint;
import dev.kiln.nn.Module;
import dev.kiln.optim.Optimizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code kiln train --save DIR [--resume]}: everything a run needs to continue bit for bit, in DIR/checkpoint.safetensors
 * (see {@link TrainingCheckpoint}), rewritten atomically after every epoch, or every segment of a run counted in steps,
 * so the folder only ever holds the latest.
 *
 * <p>What is saved: the configuration that must match to resume (model, latent size for the VAE, seed, batch, lr, the
 * training-set size that --limit leaves, or what a step-counted run adds with {@link #config}); the model's state dict;
 * every optimizer's state and step count; the epochs and steps done; for the Fashion-MNIST runs the loader's seed and
 * epoch index (its permutations are a function of those alone, see {@link BatchLoader}); and the seed and offset of
 * every {@link Generator} whose stream runs across epochs (the initializer, the VAE's reparameterization noise, the
 * GAN's training and fixed noise). Generators made afresh at each use from seed + k (evaluation, pictures, scoring)
 * carry no state and are not saved. A step-counted run's batches come from a stream of its own (the Transformer's
 * digit strings, the character model's windows), which it replays up to the step it resumes at.
 */
final class RunCheckpoint {
    private final Path file;
    private final Module model;
    private final List<? extends Optimizer> optimizers;
    private final BatchLoader loader;  // null in a run counted in steps
    private final Map<String, String> config = new LinkedHashMap<>();
    private final Map<String, Generator> generators = new LinkedHashMap<>();
    private long steps;

    /**
     * A run counted in epochs of {@code loader}. {@code save}: the --save folder, or null to save nothing. Gives the
     * optimizers the run's --lr-schedule.
     */
    RunCheckpoint(Path save, TrainCommand o, Module model, List<? extends Optimizer> optimizers, BatchLoader loader) {
        this.file = save == null ? null : save.resolve(TrainingCheckpoint.FILE_NAME);
        this.model = model;
        this.optimizers = optimizers;
        this.loader = loader;
        config.put("model", o.model);
        if (o.model.equals("vae")) config.put("latent", Integer.toString(o.latent));
        config.put("seed", Long.toString(o.seed));
        config.put("batch", Integer.toString(o.batch));
        config.put("lr", Float.toString(o.lr));
        if (loader != null) config.put("train_images", Integer.toString(loader.dataset().count()));
        // --lr-schedule is a function of the step over the run's length, so it is part of what a resume must match.
        TrainCommand.Schedule schedule = o.schedule(loader != null ? (long) o.epochs * loader.batchesPerEpoch() : o.steps);
        for (Optimizer opt : optimizers) opt.schedule(schedule.schedule());
        if (schedule.recorded() != null) config.put("lr_schedule", schedule.recorded());
    }

    /** A run counted in steps (--steps), whose batches are not a loader's. */
    RunCheckpoint(Path save, TrainCommand o, Module model, List<? extends Optimizer> optimizers) {
        this(save, o, model, optimizers, null);
    }

    /** Saves and restores {@code g}'s offset under {@code name}. */
    RunCheckpoint generator(String name, Generator g) {
        generators.put(name, g);
        return this;
    }

    /** One more entry of the configuration a resume must match (what the run's data is, for example). */
    RunCheckpoint config(String key, String value) {
        config.put(key, value);
        return this;
    }

    /** Where a run counted in epochs continues: after {@code epochs} whole epochs and {@code batches} into the next. */
    record Position(int epochs, int batches) {
        /** The batch epoch {@code epoch} (1-based) starts at: part-way into the first epoch a resumed run trains. */
        int firstBatch(int epoch) {
            return epoch == epochs + 1 ? batches : 0;
        }

        /** metrics.json's note of a resumed run: the epochs, and the batches into the next, it continued from. */
        void describe(Map<String, Object> metrics) {
            if (epochs == 0 && batches == 0) return;
            metrics.put("resumed_after_epoch", epochs);
            if (batches > 0) metrics.put("resumed_after_batch", batches);
        }
    }

    /**
     * With --resume, loads the checkpoint (refusing, with nothing changed, one from another model or configuration,
     * or one that already holds {@code totalEpochs}) and returns where it stopped; otherwise returns the start.
     */
    Position resume(boolean resume, int totalEpochs) throws IOException {
        if (!resume) return new Position(0, 0);
        long[] at = new long[2];
        Map<String, String> state = load(s -> {
            long epoch = at[0] = number(s, "epoch");
            long batches = at[1] = s.containsKey("epoch_batches") ? number(s, "epoch_batches") : 0;  // none before 12/2026
            if (batches < 0 || batches >= loader.batchesPerEpoch()) {
                throw new CheckpointException(file, "holds " + batches + " batches into an epoch of " + loader.batchesPerEpoch());
            }
            if (epoch < (batches == 0 ? 1 : 0)) throw new CheckpointException(file, "holds epoch " + epoch + ", not a finished epoch");
            if (epoch >= totalEpochs) {
                throw new CheckpointException(file, "already holds " + epoch + " epoch(s)" + (batches > 0 ? " and " + batches
                        + " batches of the next" : "") + "; --epochs " + totalEpochs + " asks for no more (--epochs is "
                        + "the total, counting the epochs already trained)");
            }
            if (number(s, "loader.seed") != loader.seed()) {
                throw new CheckpointException(file, "shuffled with seed " + s.get("loader.seed") + ", this run with " + loader.seed());
            }
            if (number(s, "loader.epochs") < (batches > 0 ? 1 : 0)) {
                throw new CheckpointException(file, "loader.epochs is " + s.get("loader.epochs") + (batches > 0 ? " in an epoch" : ""));
            }
        });
        Position p = new Position((int) at[0], (int) at[1]);
        // Part-way through an epoch the loader had started it: the resumed run starts that epoch again and skips ahead.
        loader.startAt(Long.parseLong(state.get("loader.epochs")) - (p.batches() > 0 ? 1 : 0));
        System.out.printf("resumed from %s %s (%d steps)%n", file, p.batches() == 0 ? "after epoch " + p.epochs()
                : "in epoch " + (p.epochs() + 1) + " after batch " + p.batches() + " of " + loader.batchesPerEpoch(), steps);
        return p;
    }

    /**
     * A run counted in steps: with --resume, loads the checkpoint (refusing, with nothing changed, one from another
     * model or configuration, or one that already holds {@code totalSteps}) and returns the steps it holds; otherwise
     * returns 0.
     */
    long resumeSteps(boolean resume, long totalSteps) throws IOException {
        if (!resume) return 0;
        load(s -> {
            long done = number(s, "step");
            if (done < 1) throw new CheckpointException(file, "holds step " + done + ", not a finished step");
            if (done >= totalSteps) {
                throw new CheckpointException(file, "already holds " + done + " step(s); --steps " + totalSteps
                        + " asks for no more (--steps is the total, counting the steps already trained)");
            }
        });
        System.out.printf("resumed from %s after step %d%n", file, steps);
        return steps;
    }

    /** After epoch {@code epoch}, whose last {@code steps} steps this run trained: replaces the checkpoint, if --save was given. */
    void save(int epoch, int steps) throws IOException {
        saveEpochs(epoch, 0, steps);
    }

    /**
     * After Ctrl-C stopped epoch {@code epoch} at batch {@code batches} ({@code steps} of them trained by this run):
     * replaces the checkpoint, if --save was given, and returns the exception that ends the run.
     */
    Interrupt.Stopped stopped(int epoch, int batches, int steps) throws IOException {
        if (epoch == 1 && batches == 0) return new Interrupt.Stopped("stopped before the first step; nothing saved");
        saveEpochs(epoch - 1, batches, steps);
        return stopped(batches == 0 ? "after epoch " + (epoch - 1)
                : "in epoch " + epoch + " after batch " + batches + " of " + loader.batchesPerEpoch());
    }

    private void saveEpochs(int finished, int batches, int stepsRun) throws IOException {
        steps += stepsRun;
        if (file == null) return;
        Map<String, String> state = new LinkedHashMap<>();
        state.put("epoch", Integer.toString(finished));
        state.put("epoch_batches", Integer.toString(batches));
        state.put("step", Long.toString(steps));
        state.put("loader.seed", Long.toString(loader.seed()));
        state.put("loader.epochs", Long.toString(loader.epochsStarted()));
        write(state);
    }

    /** A run counted in steps, after {@code done} steps in all: replaces the checkpoint, if --save was given. */
    void saveSteps(long done) throws IOException {
        steps = done;
        if (file == null) return;
        Map<String, String> state = new LinkedHashMap<>();
        state.put("step", Long.toString(steps));
        write(state);
    }

    /** After Ctrl-C stopped a run counted in steps at step {@code done}: saves it and returns the run's end. */
    Interrupt.Stopped stoppedAtStep(long done) throws IOException {
        if (done == 0) return new Interrupt.Stopped("stopped before the first step; nothing saved");
        saveSteps(done);
        return stopped("after step " + done);
    }

    private Interrupt.Stopped stopped(String where) {
        return new Interrupt.Stopped("stopped " + where + (file == null ? "; nothing saved (--save DIR keeps a run's progress)"
                : "; " + file + " holds it: the same command with --resume continues"));
    }

    /**
     * Loads model, optimizers, generator offsets and the step count, after {@code check} and the checks common to
     * every run have passed on the checkpoint's counters; returns those counters.
     */
    private Map<String, String> load(TrainingCheckpoint.StateCheck check) throws IOException {
        if (file == null) throw new IllegalArgumentException("--resume needs --save DIR: the folder of the checkpoint to continue");
        if (!Files.exists(file)) throw new IllegalArgumentException("--resume: there is no checkpoint to continue: " + file + " does not exist");
        Map<String, Long> offsets = new LinkedHashMap<>();
        Map<String, String> state = TrainingCheckpoint.load(file, model, optimizers, config, s -> {
            check.check(s);
            // Checked here, inside the load's check, so that a bad counter is refused before anything is loaded.
            if (number(s, "step") < 0) throw new CheckpointException(file, "step is negative: " + s.get("step"));
            for (Map.Entry<String, Generator> e : generators.entrySet()) {
                String key = "generator." + e.getKey();
                long seed = number(s, key + ".seed");
                if (seed != e.getValue().seed()) {
                    throw new CheckpointException(file, "generator '" + e.getKey() + "' has seed " + seed + " in the checkpoint, "
                            + e.getValue().seed() + " in this run");
                }
                long offset = number(s, key + ".offset");
                if (offset < 0) throw new CheckpointException(file, key + ".offset is negative: " + offset);
                offsets.put(e.getKey(), offset);
            }
        });
        offsets.forEach((name, offset) -> generators.get(name).setOffset(offset));
        steps = Long.parseLong(state.get("step"));
        return state;
    }

    /** Writes {@code state} and every generator's seed and offset beside the model and optimizers. */
    private void write(Map<String, String> state) throws IOException {
        Files.createDirectories(file.getParent());
        generators.forEach((name, g) -> {
            state.put("generator." + name + ".seed", Long.toString(g.seed()));
            state.put("generator." + name + ".offset", Long.toString(g.offset()));
        });
        TrainingCheckpoint.save(file, model, optimizers, config, state);
    }

    private long number(Map<String, String> state, String key) throws CheckpointException {
        String v = state.get(key);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new CheckpointException(file, "state." + key + " is " + (v == null ? "missing" : "'" + v + "', not a whole number"), e);
        }
    }
}

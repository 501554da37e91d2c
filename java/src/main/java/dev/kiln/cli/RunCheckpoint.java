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
 * (see {@link TrainingCheckpoint}), rewritten atomically after every epoch so the folder only ever holds the latest.
 *
 * <p>What is saved: the configuration that must match to resume (model, latent size for the VAE, seed, batch, lr,
 * the training-set size that --limit leaves); the model's state dict; every optimizer's state and step count; the
 * epochs and steps done; the loader's seed and epoch index (its permutations are a function of those alone, see
 * {@link BatchLoader}); and the seed and offset of every {@link Generator} whose stream runs across epochs (the
 * initializer, the VAE's reparameterization noise, the GAN's training and fixed noise). Generators made afresh at each
 * use from seed + k (evaluation, pictures, scoring) carry no state and are not saved.
 */
final class RunCheckpoint {
    private final Path file;
    private final Module model;
    private final List<? extends Optimizer> optimizers;
    private final BatchLoader loader;
    private final Map<String, String> config = new LinkedHashMap<>();
    private final Map<String, Generator> generators = new LinkedHashMap<>();
    private long steps;

    /** {@code save}: the --save folder, or null to save nothing. */
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
        config.put("train_images", Integer.toString(loader.dataset().count()));
    }

    /** Saves and restores {@code g}'s offset under {@code name}. */
    RunCheckpoint generator(String name, Generator g) {
        generators.put(name, g);
        return this;
    }

    /**
     * With --resume, loads the checkpoint (refusing, with nothing changed, one from another model or configuration,
     * or one that already holds {@code totalEpochs}) and returns the epochs it holds; otherwise returns 0.
     */
    int resume(boolean resume, int totalEpochs) throws IOException {
        if (!resume) return 0;
        if (file == null) throw new IllegalArgumentException("--resume needs --save DIR: the folder of the checkpoint to continue");
        if (!Files.exists(file)) throw new IllegalArgumentException("--resume: there is no checkpoint to continue: " + file + " does not exist");
        long[] epoch = new long[1];
        Map<String, Long> offsets = new LinkedHashMap<>();
        Map<String, String> state = TrainingCheckpoint.load(file, model, optimizers, config, s -> {
            epoch[0] = number(s, "epoch");
            if (epoch[0] < 1) throw new CheckpointException(file, "holds epoch " + epoch[0] + ", not a finished epoch");
            if (epoch[0] >= totalEpochs) {
                throw new CheckpointException(file, "already holds " + epoch[0] + " epoch(s); --epochs " + totalEpochs
                        + " asks for no more (--epochs is the total, counting the epochs already trained)");
            }
            if (number(s, "loader.seed") != loader.seed()) {
                throw new CheckpointException(file, "shuffled with seed " + s.get("loader.seed") + ", this run with " + loader.seed());
            }
            // Checked here, inside the load's check, so that a bad counter is refused before anything is loaded.
            if (number(s, "loader.epochs") < 0) throw new CheckpointException(file, "loader.epochs is negative: " + s.get("loader.epochs"));
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
        loader.startAt(Long.parseLong(state.get("loader.epochs")));
        steps = Long.parseLong(state.get("step"));
        System.out.printf("resumed from %s after epoch %d (%d steps)%n", file, epoch[0], steps);
        return (int) epoch[0];
    }

    /** After epoch {@code epoch} ({@code batches} steps in it): replaces the checkpoint, if --save was given. */
    void save(int epoch, int batches) throws IOException {
        steps += batches;
        if (file == null) return;
        Files.createDirectories(file.getParent());
        Map<String, String> state = new LinkedHashMap<>();
        state.put("epoch", Integer.toString(epoch));
        state.put("step", Long.toString(steps));
        state.put("loader.seed", Long.toString(loader.seed()));
        state.put("loader.epochs", Long.toString(loader.epochsStarted()));
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

package dev.kiln.io;

import dev.kiln.Device;
import dev.kiln.Tensor;
import dev.kiln.nn.Module;
import dev.kiln.optim.Optimizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A whole training run's state in one safetensors file, so that one atomic replace writes it and a crash can never
 * leave a model from one epoch beside optimizer state from another. Tensors: the model's state dict under
 * {@code model.<name>} and optimizer i's under {@code optimizer.<i>.<index>.<name>} (Optimizer.stateDict's names).
 * Metadata: {@value #FORMAT} = "1"; the run's configuration under {@code config.<key>} (what must match to resume);
 * its counters under {@code state.<key>} (epochs, steps, generator offsets: what resuming restores); and each
 * optimizer's class, step count and parameter shapes under {@code kiln.optimizer.<i>}, {@code kiln.optimizer.<i>.steps}
 * and {@code kiln.optimizer.<i>.parameters}.
 *
 * <p>{@link #load} checks everything (file, configuration, every tensor's name, shape and dtype, each optimizer's
 * class and parameter shapes, and the caller's own check of the counters) before it changes anything.
 */
public final class TrainingCheckpoint {
    /** The file's name inside a --save folder. */
    public static final String FILE_NAME = "checkpoint.safetensors";
    /** Metadata key marking a training checkpoint (value: the layout's version). */
    public static final String FORMAT = "kiln.checkpoint";
    /** Prefix of the model's tensor names in the file. */
    public static final String MODEL_PREFIX = "model.";
    private static final String VERSION = "1";
    private static final String CONFIG = "config.";
    private static final String STATE = "state.";
    private static final String OPTIMIZERS = "kiln.optimizers";

    /** Checks the counters read back, before anything is loaded; throws (any exception) to refuse the checkpoint. */
    @FunctionalInterface
    public interface StateCheck {
        /** Checks {@code state}, the checkpoint's counters without their "state." prefix; throws to refuse it. */
        void check(Map<String, String> state) throws IOException;
    }

    private TrainingCheckpoint() {
    }

    /**
     * Writes {@code model}, {@code optimizers}, {@code config} and {@code state} (string maps, may be empty) to
     * {@code file}, replacing it atomically.
     */
    public static void save(Path file, Module model, List<? extends Optimizer> optimizers, Map<String, String> config,
                            Map<String, String> state) throws IOException {
        if (model == null || optimizers == null) {
            throw new IllegalArgumentException("TrainingCheckpoint.save(" + file + "): model or optimizers is null");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        model.stateDict().forEach((name, t) -> tensors.put(MODEL_PREFIX + name, t));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(FORMAT, VERSION);
        config.forEach((k, v) -> meta.put(CONFIG + k, v));
        state.forEach((k, v) -> meta.put(STATE + k, v));
        meta.put(OPTIMIZERS, Integer.toString(optimizers.size()));
        for (int i = 0; i < optimizers.size(); i++) {
            Optimizer o = optimizers.get(i);
            String prefix = optimizerPrefix(i);
            o.stateDict().forEach((name, t) -> tensors.put(prefix + name, t));
            meta.put(Checkpoints.OPTIMIZER_CLASS + "." + i, o.getClass().getName());
            meta.put(Checkpoints.OPTIMIZER_CLASS + "." + i + ".steps", Long.toString(o.stateSteps()));
            meta.put(Checkpoints.OPTIMIZER_CLASS + "." + i + ".parameters", Checkpoints.parameterShapes(o));
        }
        SafeTensors.save(file, tensors, meta);
    }

    /** Whether {@code header} is a training checkpoint's (rather than a plain module file's). */
    public static boolean isCheckpoint(SafeTensorsHeader header) {
        return header.metadata().containsKey(FORMAT);
    }

    /** The configuration a checkpoint was saved with, read from its header alone. */
    public static Map<String, String> config(Path file) throws IOException {
        SafeTensorsHeader header = SafeTensors.readHeader(file);
        requireCheckpoint(file, header.metadata());
        return strip(header.metadata(), CONFIG);
    }

    /**
     * Loads the checkpoint into {@code model} and {@code optimizers} and returns its counters ({@code state.*} without
     * the prefix). Refused, with nothing changed, when the file is not a training checkpoint, when its configuration
     * differs from {@code expectedConfig} in any key (the message names each difference), when a tensor, optimizer
     * class or optimizer count does not fit, or when {@code stateCheck} throws.
     */
    public static Map<String, String> load(Path file, Module model, List<? extends Optimizer> optimizers,
                                           Map<String, String> expectedConfig, StateCheck stateCheck) throws IOException {
        try (LoadedTensors loaded = SafeTensors.load(file, Device.cpu())) {
            Map<String, String> meta = loaded.metadata();
            requireCheckpoint(file, meta);
            List<String> differences = differences(strip(meta, CONFIG), expectedConfig);
            if (!differences.isEmpty()) {
                throw new CheckpointException(file, "was made by another model or configuration: " + String.join("; ", differences));
            }
            Map<String, Tensor> modelPart = new LinkedHashMap<>();
            List<Map<String, Tensor>> optimizerParts = new ArrayList<>();
            for (int i = 0; i < optimizers.size(); i++) optimizerParts.add(new LinkedHashMap<>());
            List<String> problems = new ArrayList<>();
            split(loaded.tensors(), modelPart, optimizerParts, problems);
            long[] steps = optimizerSteps(file, meta, optimizers, problems);
            check(problems, () -> model.checkStateDict(modelPart));
            for (int i = 0; i < optimizers.size() && steps != null; i++) {
                int k = i;
                check(problems, () -> optimizers.get(k).checkStateDict(optimizerParts.get(k), steps[k]));
            }
            if (!problems.isEmpty()) throw new CheckpointException(file, "does not fit this run: " + String.join("; ", problems));
            Map<String, String> state = strip(meta, STATE);
            stateCheck.check(state);
            // Everything fits: from here on nothing can be refused.
            model.loadStateDict(modelPart);
            for (int i = 0; i < optimizers.size(); i++) optimizers.get(i).loadStateDict(optimizerParts.get(i), steps[i]);
            return state;
        }
    }

    /**
     * Loads only the model from {@code file}, a training checkpoint or a plain module file (Checkpoints.saveModule's,
     * or any safetensors file under the module's names), and returns the configuration or the plain file's metadata.
     */
    public static Map<String, String> loadModel(Path file, Module model) throws IOException {
        if (!isCheckpoint(SafeTensors.readHeader(file))) return Checkpoints.loadModule(file, model);
        try (LoadedTensors loaded = SafeTensors.load(file, Device.cpu())) {
            Map<String, Tensor> part = new LinkedHashMap<>();
            loaded.tensors().forEach((name, t) -> {
                if (name.startsWith(MODEL_PREFIX)) part.put(name.substring(MODEL_PREFIX.length()), t);
            });
            try {
                model.loadStateDict(part);
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(file, "does not fit " + model.getClass().getSimpleName() + ": " + e.getMessage(), e);
            }
            return strip(loaded.metadata(), CONFIG);
        }
    }

    /**
     * "key: the checkpoint has 'a', this run 'b'" for every key whose values differ or that only one side has; "model"
     * first, as the difference that explains the others, then by name.
     */
    static List<String> differences(Map<String, String> saved, Map<String, String> expected) {
        List<String> out = new ArrayList<>();
        TreeSet<String> keys = new TreeSet<>(Comparator.comparing((String k) -> !k.equals("model")).thenComparing(k -> k));
        keys.addAll(saved.keySet());
        keys.addAll(expected.keySet());
        for (String k : keys) {
            String a = saved.get(k), b = expected.get(k);
            if (a == null || !a.equals(b)) {
                out.add(k + ": the checkpoint has " + (a == null ? "none" : "'" + a + "'") + ", this run "
                        + (b == null ? "none" : "'" + b + "'"));
            }
        }
        return out;
    }

    private static void split(Map<String, Tensor> tensors, Map<String, Tensor> modelPart,
                              List<Map<String, Tensor>> optimizerParts, List<String> problems) {
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name.startsWith(MODEL_PREFIX)) {
                modelPart.put(name.substring(MODEL_PREFIX.length()), e.getValue());
                continue;
            }
            boolean placed = false;
            for (int i = 0; i < optimizerParts.size() && !placed; i++) {
                if (name.startsWith(optimizerPrefix(i))) {
                    optimizerParts.get(i).put(name.substring(optimizerPrefix(i).length()), e.getValue());
                    placed = true;
                }
            }
            if (!placed) problems.add("unexpected tensor '" + name + "' (neither model.* nor the state of one of "
                    + optimizerParts.size() + " optimizers)");
        }
    }

    /** Each optimizer's saved step count, after checking the count and classes (null if they do not fit). */
    private static long[] optimizerSteps(Path file, Map<String, String> meta, List<? extends Optimizer> optimizers,
                                         List<String> problems) {
        String count = meta.get(OPTIMIZERS);
        if (!Integer.toString(optimizers.size()).equals(count)) {
            problems.add("it holds " + (count == null ? "no" : count) + " optimizers, this run has " + optimizers.size());
            return null;
        }
        long[] steps = new long[optimizers.size()];
        for (int i = 0; i < optimizers.size(); i++) {
            String key = Checkpoints.OPTIMIZER_CLASS + "." + i;
            String saved = meta.get(key), mine = optimizers.get(i).getClass().getName();
            if (!mine.equals(saved)) problems.add("optimizer " + i + " is " + saved + " in the checkpoint, " + mine + " in this run");
            String shapes = meta.get(key + ".parameters"), myShapes = Checkpoints.parameterShapes(optimizers.get(i));
            if (shapes != null && !shapes.equals(myShapes)) {
                problems.add("optimizer " + i + " is over parameters " + shapes + " in the checkpoint, " + myShapes
                        + " in this run");
            }
            try {
                steps[i] = Long.parseLong(meta.getOrDefault(key + ".steps", ""));
            } catch (NumberFormatException e) {
                problems.add(key + ".steps is '" + meta.get(key + ".steps") + "', not a step count");
                return null;
            }
        }
        return steps;
    }

    private static void check(List<String> problems, Runnable check) {
        try {
            check.run();
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
        }
    }

    private static void requireCheckpoint(Path file, Map<String, String> meta) throws CheckpointException {
        String version = meta.get(FORMAT);
        if (version == null) throw new CheckpointException(file, "is not a training checkpoint: its metadata lacks " + FORMAT);
        if (!VERSION.equals(version)) {
            throw new CheckpointException(file, "is a training checkpoint of layout " + version + "; this Kiln reads layout " + VERSION);
        }
    }

    private static Map<String, String> strip(Map<String, String> meta, String prefix) {
        Map<String, String> out = new LinkedHashMap<>();
        meta.forEach((k, v) -> {
            if (k.startsWith(prefix)) out.put(k.substring(prefix.length()), v);
        });
        return out;
    }

    private static String optimizerPrefix(int i) {
        return "optimizer." + i + ".";
    }
}

package dev.kiln.io;

import dev.kiln.Device;
import dev.kiln.Tensor;
import dev.kiln.nn.Module;
import dev.kiln.optim.Optimizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Module and optimizer state in safetensors files, so a training run can stop and resume. A module's file holds its
 * {@link Module#stateDict()} under PyTorch's names; an optimizer's holds its {@link Optimizer#stateDict()} and, in
 * the metadata, its class and step count. Loading reads the file onto the CPU and then copies into the live tensors
 * (on whatever device they are): a file that does not fit changes nothing, and GPU memory is never doubled.
 */
public final class Checkpoints {
    /** Metadata keys Kiln writes next to the caller's. */
    public static final String OPTIMIZER_CLASS = "kiln.optimizer";
    /** Metadata key of an optimizer file's step count (a decimal number). */
    public static final String OPTIMIZER_STEPS = "kiln.optimizer.steps";
    /**
     * Metadata key of an optimizer file's parameter shapes, in order ("[3, 4] [4]"): state is loaded only into an
     * optimizer over parameters of the same shapes (files written before this key existed are not checked).
     */
    public static final String OPTIMIZER_PARAMETERS = "kiln.optimizer.parameters";

    private Checkpoints() {
    }

    /** Writes {@code module}'s parameters and buffers with {@code metadata} (may be null), replacing the file atomically. */
    public static void saveModule(Path file, Module module, Map<String, String> metadata) throws IOException {
        if (module == null) throw new IllegalArgumentException("Checkpoints.saveModule(" + file + "): module is null");
        SafeTensors.save(file, module.stateDict(), metadata);
    }

    /**
     * Loads {@code file} into {@code module} and returns the file's metadata. Names, shapes and dtypes must match the
     * module's state dict exactly; otherwise nothing is loaded and the exception lists every difference.
     */
    public static Map<String, String> loadModule(Path file, Module module) throws IOException {
        if (module == null) throw new IllegalArgumentException("Checkpoints.loadModule(" + file + "): module is null");
        try (LoadedTensors loaded = SafeTensors.load(file, Device.cpu())) {
            try {
                module.loadStateDict(loaded.tensors());
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(file, "does not fit " + module.getClass().getSimpleName() + ": " + e.getMessage(), e);
            }
            return loaded.metadata();
        }
    }

    /** Writes {@code optimizer}'s state and step count with {@code metadata} (may be null), replacing the file atomically. */
    public static void saveOptimizer(Path file, Optimizer optimizer, Map<String, String> metadata) throws IOException {
        if (optimizer == null) throw new IllegalArgumentException("Checkpoints.saveOptimizer(" + file + "): optimizer is null");
        Map<String, String> meta = new LinkedHashMap<>(metadata == null ? Map.of() : metadata);
        meta.put(OPTIMIZER_CLASS, optimizer.getClass().getName());
        meta.put(OPTIMIZER_STEPS, Long.toString(optimizer.stateSteps()));
        meta.put(OPTIMIZER_PARAMETERS, parameterShapes(optimizer));
        SafeTensors.save(file, optimizer.stateDict(), meta);
    }

    /**
     * Restores {@code optimizer}'s state and step count from {@code file} and returns the file's metadata. The file
     * must come from an optimizer of the same class over parameters of the same shapes; otherwise nothing changes.
     */
    public static Map<String, String> loadOptimizer(Path file, Optimizer optimizer) throws IOException {
        if (optimizer == null) throw new IllegalArgumentException("Checkpoints.loadOptimizer(" + file + "): optimizer is null");
        try (LoadedTensors loaded = SafeTensors.load(file, Device.cpu())) {
            Map<String, String> meta = loaded.metadata();
            String saved = meta.get(OPTIMIZER_CLASS);
            if (saved == null || meta.get(OPTIMIZER_STEPS) == null) {
                throw new CheckpointException(file, "is not an optimizer checkpoint: its metadata lacks " + OPTIMIZER_CLASS
                        + " or " + OPTIMIZER_STEPS);
            }
            if (!saved.equals(optimizer.getClass().getName())) {
                throw new CheckpointException(file, "holds the state of " + saved + ", not of " + optimizer.getClass().getName());
            }
            String shapes = meta.get(OPTIMIZER_PARAMETERS), mine = parameterShapes(optimizer);
            if (shapes != null && !shapes.equals(mine)) {
                throw new CheckpointException(file, "holds the state of an optimizer over parameters " + shapes
                        + "; this one's are " + mine);
            }
            long steps;
            try {
                steps = Long.parseLong(meta.get(OPTIMIZER_STEPS));
            } catch (NumberFormatException e) {
                throw new CheckpointException(file, OPTIMIZER_STEPS + " is '" + meta.get(OPTIMIZER_STEPS) + "', not a step count", e);
            }
            try {
                optimizer.loadStateDict(loaded.tensors(), steps);
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(file, "does not fit this " + optimizer.getClass().getSimpleName() + ": " + e.getMessage(), e);
            }
            return meta;
        }
    }

    /** The shapes of {@code optimizer}'s parameters, in order, as {@link #OPTIMIZER_PARAMETERS} holds them. */
    static String parameterShapes(Optimizer optimizer) {
        StringJoiner shapes = new StringJoiner(" ");
        for (Tensor p : optimizer.parameters()) shapes.add(Arrays.toString(p.shape()));
        return shapes.toString();
    }
}

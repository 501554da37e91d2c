package dev.kiln.io;

import dev.kiln.Tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tensors and metadata read from a checkpoint. The tensors belong to no {@link dev.kiln.Scope}: this object owns
 * them and {@link #close()} frees every one still owned, so use it in try-with-resources. {@link #take} hands one
 * over to the caller, who must then close it.
 */
public final class LoadedTensors implements AutoCloseable {
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    LoadedTensors(Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.tensors = new LinkedHashMap<>(tensors);
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** The tensors still owned here, by name in file order (unmodifiable; closed by {@link #close()}). */
    public Map<String, Tensor> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    /** The file's "__metadata__" strings (empty when it had none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensor {@code name}, which is now the caller's to close; this object forgets it. */
    public Tensor take(String name) {
        Tensor t = tensors.remove(name);
        if (t == null) throw new IllegalArgumentException("LoadedTensors.take: no tensor '" + name + "' (have " + tensors.keySet() + ")");
        return t;
    }

    @Override
    public void close() {
        for (Tensor t : tensors.values()) t.close();
        tensors.clear();
    }
}

package dev.kiln.io;

import java.util.Map;

/**
 * The parsed and validated header of a safetensors file: the tensors in file order, the "__metadata__" strings, and
 * where the data section starts (8 + the header's length).
 */
public record SafeTensorsHeader(Map<String, TensorInfo> tensors, Map<String, String> metadata, long dataStart) {
    /** Copies both maps into unmodifiable ones that keep their order. */
    public SafeTensorsHeader {
        tensors = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tensors));
        metadata = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(metadata));
    }

    /** Bytes in the data section: the end of the last tensor. */
    public long dataLength() {
        long end = 0;
        for (TensorInfo t : tensors.values()) end = Math.max(end, t.end());
        return end;
    }
}

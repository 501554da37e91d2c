package dev.kiln.io;

import com.google.gson.stream.JsonWriter;
import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Tensors in the safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON header
 * mapping each name to {"dtype", "shape", "data_offsets"} plus an optional "__metadata__" map of strings, then the
 * raw little-endian data. Kiln reads and writes F32, I32 and BF16 (bits as stored, never rounded on the way); files
 * written here load in the Python library and back.
 *
 * <p>Writes replace the file atomically (see {@link AtomicFiles}); loads validate the whole header and layout before
 * allocating anything. Data moves through a bounded buffer, so a tensor of any size costs {@value #CHUNK_ELEMENTS}
 * elements of heap.
 */
public final class SafeTensors {
    /** Elements per transfer between a tensor and the file: 1 MiB of fp32. */
    static final int CHUNK_ELEMENTS = 1 << 18;
    /** The data section starts at a multiple of this, as the Python writer pads it, so it can be mapped aligned. */
    private static final int HEADER_ALIGNMENT = 8;

    private SafeTensors() {
    }

    /**
     * Writes {@code tensors} (any device, F32, I32 or BF16, in the map's order) and {@code metadata} (may be null or empty)
     * to {@code file}, replacing it atomically: if anything fails, the previous file is untouched.
     */
    public static void save(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        save(file, tensors, metadata, UnaryOperator.identity());
    }

    /** {@link #save(Path, Map, Map)} writing through {@code channelFilter}: tests inject failures with it. */
    static void save(Path file, Map<String, Tensor> tensors, Map<String, String> metadata,
                     UnaryOperator<WritableByteChannel> channelFilter) throws IOException {
        if (file == null) throw new IllegalArgumentException("SafeTensors.save: file is null");
        Map<String, String> meta = metadata == null ? Map.of() : metadata;
        checkArguments(file, tensors, meta);
        byte[] header = header(tensors, meta);
        AtomicFiles.write(file, channel -> {
            WritableByteChannel out = channelFilter.apply(channel);
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
            writeFully(out, length);
            writeFully(out, ByteBuffer.wrap(header));
            TensorStreams streams = new TensorStreams(CHUNK_ELEMENTS);
            for (Tensor t : tensors.values()) streams.write(t, out);
        });
    }

    /** Reads and validates the header of {@code file} without loading any data. */
    public static SafeTensorsHeader readHeader(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return HeaderParser.read(file, ch);
        }
    }

    /**
     * Loads every tensor of {@code file} onto {@code device}. The file is validated whole first (header length, JSON,
     * dtypes, shapes, offsets tiling the data exactly, no duplicate names): a bad file throws a
     * {@link CheckpointException} naming it and the problem before any tensor is allocated. The result owns the
     * tensors; close it (they belong to no scope).
     */
    public static LoadedTensors load(Path file, Device device) throws IOException {
        if (device == null) throw new IllegalArgumentException("SafeTensors.load: device is null");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            SafeTensorsHeader header = HeaderParser.read(file, ch);
            Map<String, Tensor> loaded = new LinkedHashMap<>();
            boolean done = false;
            try {
                TensorStreams streams = new TensorStreams(CHUNK_ELEMENTS);
                for (Map.Entry<String, TensorInfo> e : header.tensors().entrySet()) {
                    TensorInfo info = e.getValue();
                    Tensor t = Scope.detached(() -> Tensor.empty(device, info.dtype(), info.shape()));
                    loaded.put(e.getKey(), t);
                    streams.read(file, e.getKey(), ch, header.dataStart() + info.begin(), t);
                }
                done = true;
                return new LoadedTensors(loaded, header.metadata());
            } finally {
                if (!done) for (Tensor t : loaded.values()) t.close();
            }
        }
    }

    private static void checkArguments(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        String who = "SafeTensors.save(" + file + ")";
        if (tensors == null) throw new IllegalArgumentException(who + ": tensors is null");
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            if (name == null || name.isEmpty()) throw new IllegalArgumentException(who + ": a tensor name is null or empty");
            if (name.equals(HeaderParser.METADATA_KEY)) throw new IllegalArgumentException(who + ": '" + name + "' is reserved for metadata");
            if (t == null) throw new IllegalArgumentException(who + ": tensor '" + name + "' is null");
            if (t.isClosed()) throw new IllegalStateException(who + ": tensor '" + name + "' is closed: " + t);
        }
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException(who + ": metadata has a null " + (e.getKey() == null ? "key" : "value for '" + e.getKey() + "'"));
            }
        }
    }

    /** The header JSON in UTF-8, padded with spaces to {@link #HEADER_ALIGNMENT}. */
    static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) {
        StringWriter text = new StringWriter();
        try (JsonWriter w = new JsonWriter(text)) {
            w.beginObject();
            if (!metadata.isEmpty()) {
                w.name(HeaderParser.METADATA_KEY).beginObject();
                for (Map.Entry<String, String> e : metadata.entrySet()) w.name(e.getKey()).value(e.getValue());
                w.endObject();
            }
            long offset = 0;
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                Tensor t = e.getValue();
                long bytes = t.numel() * t.dtype().bytes();
                w.name(e.getKey()).beginObject();
                w.name("dtype").value(specName(t.dtype()));
                w.name("shape").beginArray();
                for (int d : t.shape()) w.value(d);
                w.endArray();
                w.name("data_offsets").beginArray().value(offset).value(offset + bytes).endArray();
                w.endObject();
                offset += bytes;
            }
            w.endObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);  // a StringWriter does not fail
        }
        String json = text.toString();
        int pad = (HEADER_ALIGNMENT - json.getBytes(StandardCharsets.UTF_8).length % HEADER_ALIGNMENT) % HEADER_ALIGNMENT;
        return (json + " ".repeat(pad)).getBytes(StandardCharsets.UTF_8);
    }

    /** The safetensors name of a Kiln dtype. */
    static String specName(DType dtype) {
        return switch (dtype) {
            case F32 -> "F32";
            case I32 -> "I32";
            case BF16 -> "BF16";
        };
    }

    static void writeFully(WritableByteChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) out.write(buffer);
    }
}

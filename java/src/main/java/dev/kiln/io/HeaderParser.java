package dev.kiln.io;

import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.kiln.DType;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and validates a safetensors header, touching nothing but the file: every rule of the format is checked here,
 * so that a load allocates only after the whole file is known to be sound.
 */
final class HeaderParser {
    /** The reference implementation's cap: a larger header is a corrupt length, not a real header. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";

    /** Element types of the safetensors spec that Kiln cannot hold, to tell them from garbage. */
    private static final Set<String> OTHER_SPEC_DTYPES = Set.of("BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16",
            "U16", "F16", "U32", "F64", "I64", "U64", "C64", "F4", "F6_E2M3", "F6_E3M2");

    private final Path file;

    private HeaderParser(Path file) {
        this.file = file;
    }

    static SafeTensorsHeader read(Path file, FileChannel channel) throws IOException {
        return new HeaderParser(file).read(channel);
    }

    private SafeTensorsHeader read(FileChannel channel) throws IOException {
        long fileSize = channel.size();
        if (fileSize < 8) throw fail("is " + fileSize + " bytes long, shorter than the 8-byte header length: truncated or not safetensors");
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBytes, 0);
        long headerLength = lengthBytes.flip().getLong();
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw fail("header length " + Long.toUnsignedString(headerLength) + " is over the " + MAX_HEADER_BYTES
                    + "-byte limit: corrupt or not safetensors");
        }
        if (headerLength > fileSize - 8) {
            throw fail("header length " + headerLength + " runs past the end of the file (" + fileSize + " bytes): truncated");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(channel, headerBytes, 8);
        String json = decodeUtf8(headerBytes.flip());
        long dataStart = 8 + headerLength;
        return parse(json, dataStart, fileSize - dataStart);
    }

    private String decodeUtf8(ByteBuffer bytes) throws CheckpointException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw fail("header is not valid UTF-8: " + e.getMessage());
        }
    }

    private SafeTensorsHeader parse(String json, long dataStart, long dataLength) throws CheckpointException {
        if (!json.startsWith("{")) throw fail("header does not start with '{': corrupt or not safetensors");
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        try (JsonReader r = new JsonReader(new StringReader(json))) {
            r.setStrictness(Strictness.STRICT);
            r.beginObject();
            Set<String> seen = new HashSet<>();
            while (r.hasNext()) {
                String name = r.nextName();
                if (!seen.add(name)) throw fail("header names '" + name + "' twice (duplicate tensor name)");
                if (name.equals(METADATA_KEY)) {
                    readMetadata(r, metadata);
                } else {
                    tensors.put(name, readTensor(r, name));
                }
            }
            r.endObject();
            if (r.peek() != JsonToken.END_DOCUMENT) throw fail("header has more after its JSON object");
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException | IllegalStateException | JsonParseException | NumberFormatException e) {
            throw fail("header is not valid JSON: " + e.getMessage(), e);
        }
        checkLayout(tensors, dataLength);
        return new SafeTensorsHeader(tensors, metadata, dataStart);
    }

    private void readMetadata(JsonReader r, Map<String, String> metadata) throws IOException {
        expect(r, JsonToken.BEGIN_OBJECT, METADATA_KEY);
        r.beginObject();
        while (r.hasNext()) {
            String key = r.nextName();
            if (r.peek() != JsonToken.STRING) throw fail(METADATA_KEY + " '" + key + "' must be a string, got " + r.peek());
            if (metadata.put(key, r.nextString()) != null) throw fail(METADATA_KEY + " names '" + key + "' twice");
        }
        r.endObject();
    }

    private TensorInfo readTensor(JsonReader r, String name) throws IOException {
        expect(r, JsonToken.BEGIN_OBJECT, "tensor '" + name + "'");
        r.beginObject();
        String dtypeName = null;
        List<Long> shape = null, offsets = null;
        while (r.hasNext()) {
            String key = r.nextName();
            switch (key) {
                case "dtype" -> {
                    expect(r, JsonToken.STRING, "tensor '" + name + "' dtype");
                    dtypeName = r.nextString();
                }
                case "shape" -> shape = readLongs(r, name, key);
                case "data_offsets" -> offsets = readLongs(r, name, key);
                default -> throw fail("tensor '" + name + "' has an unknown field '" + key + "' (expected dtype, shape, data_offsets)");
            }
        }
        r.endObject();
        if (dtypeName == null || shape == null || offsets == null) {
            throw fail("tensor '" + name + "' lacks " + (dtypeName == null ? "dtype" : shape == null ? "shape" : "data_offsets"));
        }
        DType dtype = dtype(name, dtypeName);
        int[] dims = dims(name, shape);
        if (offsets.size() != 2) throw fail("tensor '" + name + "' data_offsets must be [begin, end], got " + offsets);
        long begin = offsets.get(0), end = offsets.get(1);
        if (begin > end) throw fail("tensor '" + name + "' data_offsets [" + begin + ", " + end + "] end before they begin");
        long bytes = byteSize(name, dims, dtype);
        if (bytes != end - begin) {
            throw fail("tensor '" + name + "' of shape " + shapeString(dims) + " and dtype " + dtypeName + " needs " + bytes
                    + " bytes but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        }
        return new TensorInfo(dtype, dims, begin, end);
    }

    private List<Long> readLongs(JsonReader r, String name, String field) throws IOException {
        expect(r, JsonToken.BEGIN_ARRAY, "tensor '" + name + "' " + field);
        List<Long> out = new ArrayList<>();
        r.beginArray();
        while (r.hasNext()) {
            expect(r, JsonToken.NUMBER, "tensor '" + name + "' " + field + " element");
            long v;
            try {
                v = r.nextLong();
            } catch (NumberFormatException e) {
                throw fail("tensor '" + name + "' " + field + " holds a number that is not a 64-bit integer: " + e.getMessage());
            }
            if (v < 0) throw fail("tensor '" + name + "' " + field + " holds a negative number " + v);
            out.add(v);
        }
        r.endArray();
        return out;
    }

    private DType dtype(String name, String dtype) throws CheckpointException {
        return switch (dtype) {
            case "F32" -> DType.F32;
            case "I32" -> DType.I32;
            case "BF16" -> DType.BF16;
            default -> throw fail("tensor '" + name + "' has " + (OTHER_SPEC_DTYPES.contains(dtype)
                    ? "dtype " + dtype + ", which Kiln does not hold" : "an unknown dtype '" + dtype + "'") + " (expected F32, I32 or BF16)");
        };
    }

    private int[] dims(String name, List<Long> shape) throws CheckpointException {
        int[] dims = new int[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            if (shape.get(i) > Integer.MAX_VALUE) throw fail("tensor '" + name + "' dimension " + i + " is " + shape.get(i) + ", more than Kiln's int dimensions hold");
            dims[i] = (int) (long) shape.get(i);
        }
        return dims;
    }

    private long byteSize(String name, int[] dims, DType dtype) throws CheckpointException {
        try {
            long n = 1;
            for (int d : dims) n = Math.multiplyExact(n, d);
            return Math.multiplyExact(n, dtype.bytes());
        } catch (ArithmeticException e) {
            throw fail("tensor '" + name + "' of shape " + shapeString(dims) + " has more bytes than a 64-bit count holds");
        }
    }

    /** The tensors must tile the data section exactly: no gap, no overlap, nothing past its end, nothing left over. */
    private void checkLayout(Map<String, TensorInfo> tensors, long dataLength) throws CheckpointException {
        List<Map.Entry<String, TensorInfo>> sorted = new ArrayList<>(tensors.entrySet());
        sorted.sort(Comparator.comparingLong((Map.Entry<String, TensorInfo> e) -> e.getValue().begin())
                .thenComparingLong(e -> e.getValue().end()));
        long expected = 0;
        String previous = null;
        for (Map.Entry<String, TensorInfo> e : sorted) {
            TensorInfo t = e.getValue();
            if (t.end() > dataLength) {
                throw fail("tensor '" + e.getKey() + "' data_offsets [" + t.begin() + ", " + t.end() + "] run past the end of the "
                        + dataLength + "-byte data section: truncated or corrupt");
            }
            if (t.begin() < expected) {
                throw fail("tensor '" + e.getKey() + "' data_offsets [" + t.begin() + ", " + t.end() + "] overlap tensor '"
                        + previous + "', which ends at " + expected);
            }
            if (t.begin() > expected) {
                throw fail("data bytes [" + expected + ", " + t.begin() + ") belong to no tensor (gap before '" + e.getKey() + "')");
            }
            expected = t.end();
            previous = e.getKey();
        }
        if (expected != dataLength) {
            throw fail("the tensors cover " + expected + " bytes of data but the file holds " + dataLength
                    + " after the header: trailing bytes or a wrong header");
        }
    }

    private void expect(JsonReader r, JsonToken token, String what) throws IOException {
        JsonToken got = r.peek();
        if (got != token) throw fail(what + " must be " + describe(token) + ", got " + describe(got));
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case BEGIN_OBJECT -> "an object";
            case BEGIN_ARRAY -> "an array";
            case STRING -> "a string";
            case NUMBER -> "a number";
            default -> t.name().toLowerCase();
        };
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) throw new java.io.EOFException("file ended at byte " + (position + buffer.position()));
        }
    }

    static String shapeString(int[] dims) {
        return java.util.Arrays.toString(dims);
    }

    private CheckpointException fail(String problem) {
        return new CheckpointException(file, problem);
    }

    private CheckpointException fail(String problem, Throwable cause) {
        return new CheckpointException(file, problem, cause);
    }
}

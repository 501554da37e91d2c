package dev.kiln.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The safetensors format: round trips, the bytes against the spec in both directions, and large tensors in chunks. */
class SafeTensorsTest {
    @TempDir
    Path dir;

    /** A file as the spec lays it out, built byte by byte: header length, JSON, little-endian data. */
    static byte[] file(String json, byte[] data) {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length).put(header).put(data).array();
    }

    static byte[] le(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return b.array();
    }

    static byte[] le(int... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) b.putInt(v);
        return b.array();
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) b.put(p);
        return b.array();
    }

    @Test
    void loadsAFileWrittenByHandToTheSpec() throws IOException {
        // Offsets are relative to the data section; the entries need not be in data order; padding spaces are allowed.
        String json = "{\"b\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[24,36]},"
                + "\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[36,40]}}   ";
        byte[] data = concat(le(1f, -2f, 0.5f, Float.MIN_VALUE, -0f, 1e30f), le(7, -1, Integer.MAX_VALUE), le(3.25f));
        Path f = dir.resolve("hand.safetensors");
        Files.write(f, file(json, data));
        try (LoadedTensors loaded = SafeTensors.load(f, Device.cpu())) {
            assertEquals(List.of("b", "a", "s"), List.copyOf(loaded.tensors().keySet()));
            Tensor a = loaded.tensors().get("a"), b = loaded.tensors().get("b"), s = loaded.tensors().get("s");
            assertArrayEquals(new int[] {2, 3}, a.shape());
            assertArrayEquals(new float[] {1f, -2f, 0.5f, Float.MIN_VALUE, -0f, 1e30f}, a.toFloatArray());
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(a.toFloatArray()[4]));
            assertEquals(DType.I32, b.dtype());
            assertArrayEquals(new int[] {7, -1, Integer.MAX_VALUE}, b.toIntArray());
            assertEquals(0, s.rank());
            assertEquals(3.25f, s.item());
            assertEquals(Map.of("format", "pt"), loaded.metadata());
        }
    }

    @Test
    void writesTheSpecsBytes() throws IOException {
        Path f = dir.resolve("w.safetensors");
        try (Tensor a = Tensor.of(new float[] {1f, 2f, 3f, 4f, 5f, 6f}, 2, 3);
             Tensor b = Tensor.ofInts(Device.cpu(), new int[] {9, -9}, 2)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("weight", a);
            tensors.put("labels", b);
            SafeTensors.save(f, tensors, Map.of("epoch", "3"));
        }
        byte[] bytes = Files.readAllBytes(f);
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong();
        assertEquals(0, (8 + n) % 8, "the data section starts 8-byte aligned");
        String json = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        JsonObject header = JsonParser.parseString(json).getAsJsonObject();
        assertEquals("3", header.getAsJsonObject("__metadata__").get("epoch").getAsString());
        JsonObject w = header.getAsJsonObject("weight"), l = header.getAsJsonObject("labels");
        assertEquals("F32", w.get("dtype").getAsString());
        assertEquals(List.of(2L, 3L), longs(w.getAsJsonArray("shape")));
        assertEquals(List.of(0L, 24L), longs(w.getAsJsonArray("data_offsets")));
        assertEquals("I32", l.get("dtype").getAsString());
        assertEquals(List.of(24L, 32L), longs(l.getAsJsonArray("data_offsets")));
        assertEquals(8 + n + 32, bytes.length);
        byte[] data = java.util.Arrays.copyOfRange(bytes, (int) (8 + n), bytes.length);
        assertArrayEquals(concat(le(1f, 2f, 3f, 4f, 5f, 6f), le(9, -9)), data);
    }

    private static List<Long> longs(JsonArray a) {
        List<Long> out = new java.util.ArrayList<>();
        a.forEach(e -> out.add(e.getAsLong()));
        return out;
    }

    @Test
    void roundTripIsBitExactIncludingNaNPayloadsAndEmptyTensors() throws IOException {
        float[] odd = {Float.NaN, Float.intBitsToFloat(0x7fc00001), Float.POSITIVE_INFINITY, -0f, Float.MIN_VALUE, 1.17549435E-38f};
        Path f = dir.resolve("bits.safetensors");
        try (Tensor a = Tensor.of(odd, odd.length); Tensor empty = Tensor.empty(Device.cpu(), 0, 4);
             Tensor idx = Tensor.ofInts(Device.cpu(), new int[] {Integer.MIN_VALUE, 0}, 2)) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("odd", a);
            in.put("empty", empty);
            in.put("idx", idx);
            SafeTensors.save(f, in, null);
        }
        try (LoadedTensors loaded = SafeTensors.load(f, Device.cpu())) {
            float[] got = loaded.tensors().get("odd").toFloatArray();
            for (int i = 0; i < odd.length; i++) assertEquals(Float.floatToRawIntBits(odd[i]), Float.floatToRawIntBits(got[i]), "element " + i);
            assertArrayEquals(new int[] {0, 4}, loaded.tensors().get("empty").shape());
            assertArrayEquals(new int[] {Integer.MIN_VALUE, 0}, loaded.tensors().get("idx").toIntArray());
            assertTrue(loaded.metadata().isEmpty());
        }
    }

    @Test
    void tensorsLargerThanOneChunkStreamThrough() throws IOException {
        // 2.5 chunks plus a ragged tail: every chunk boundary of both directions is crossed.
        int n = SafeTensors.CHUNK_ELEMENTS * 5 / 2 + 7;
        float[] values = new float[n];
        for (int i = 0; i < n; i++) values[i] = i * 0.5f - 1000f;
        int[] ints = new int[n];
        for (int i = 0; i < n; i++) ints[i] = i * 31 - 7;
        Path f = dir.resolve("big.safetensors");
        try (Tensor a = Tensor.of(values, n); Tensor b = Tensor.ofInts(Device.cpu(), ints, n)) {
            SafeTensors.save(f, Map.of("a", a, "b", b), Map.of());
        }
        try (LoadedTensors loaded = SafeTensors.load(f, Device.cpu())) {
            assertArrayEquals(values, loaded.tensors().get("a").toFloatArray());
            assertArrayEquals(ints, loaded.tensors().get("b").toIntArray());
        }
    }

    @Test
    void loadedTensorsBelongToTheResultUntilTaken() throws IOException {
        Path f = dir.resolve("own.safetensors");
        try (Tensor a = Tensor.of(new float[] {1f}, 1); Tensor b = Tensor.of(new float[] {2f}, 1)) {
            SafeTensors.save(f, Map.of("a", a, "b", b), null);
        }
        Tensor kept, dropped;
        try (dev.kiln.Scope scope = dev.kiln.Scope.open(); LoadedTensors loaded = SafeTensors.load(f, Device.cpu())) {
            assertEquals(0, scope.size(), "loaded tensors are in no scope");
            kept = loaded.take("a");
            dropped = loaded.tensors().get("b");
            assertThrows(IllegalArgumentException.class, () -> loaded.take("a"));
        }
        assertTrue(dropped.isClosed());
        try (kept) {
            assertEquals(1f, kept.item());
        }
    }

    @Test
    void refusesToSaveBadArguments() {
        Path f = dir.resolve("bad.safetensors");
        try (Tensor a = Tensor.of(new float[] {1f}, 1)) {
            assertThrows(IllegalArgumentException.class, () -> SafeTensors.save(f, Map.of("__metadata__", a), null));
            assertThrows(IllegalArgumentException.class, () -> SafeTensors.save(f, Map.of("", a), null));
            Map<String, String> nullValue = new java.util.HashMap<>();
            nullValue.put("k", null);
            assertThrows(IllegalArgumentException.class, () -> SafeTensors.save(f, Map.of("a", a), nullValue));
        }
        assertTrue(!Files.exists(f));
    }
}

package dev.kiln.io;

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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** bf16 tensors in safetensors files: "BF16" entries whose data is the raw 16-bit patterns, both ways, on every device. */
class SafeTensorsBf16Test {
    @TempDir
    Path dir;

    static List<Device> devices() {
        List<Device> all = new ArrayList<>(List.of(Device.cpu()));
        for (int i = 0; i < Device.cudaDeviceCount(); i++) all.add(Device.cuda(i));
        return all;
    }

    static byte[] le(short... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short v : values) b.putShort(v);
        return b.array();
    }

    static short[] bits(Tensor t) {
        short[] out = new short[(int) t.numel()];
        t.copyTo(0, out, 0, out.length);
        return out;
    }

    // 1, -2, a signalling NaN, a negative quiet NaN with payload, +inf, the smallest subnormal, -0, the largest finite.
    static final short[] ODD = {(short) 0x3f80, (short) 0xc000, (short) 0x7f81, (short) 0xffc3, (short) 0x7f80,
            (short) 0x0001, (short) 0x8000, (short) 0x7f7f};

    @Test
    void writesBf16AsTheSpecLaysItOut() throws IOException {
        for (Device device : devices()) {
            Path f = dir.resolve("w-" + device + ".safetensors");
            try (Tensor a = Tensor.empty(device, DType.BF16, 2, 4); Tensor b = Tensor.of(new float[] {1f, 2f}, 2)) {
                a.copyFrom(ODD, 0, 0, ODD.length);
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                tensors.put("a", a);
                tensors.put("b", b);
                SafeTensors.save(f, tensors, null);
            }
            byte[] bytes = Files.readAllBytes(f);
            long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            JsonObject header = JsonParser.parseString(new String(bytes, 8, (int) n, StandardCharsets.UTF_8)).getAsJsonObject();
            JsonObject a = header.getAsJsonObject("a"), b = header.getAsJsonObject("b");
            assertEquals("BF16", a.get("dtype").getAsString());
            assertEquals("[2,4]", a.get("shape").toString());
            assertEquals("[0,16]", a.get("data_offsets").toString());
            assertEquals("[16,24]", b.get("data_offsets").toString());
            byte[] data = java.util.Arrays.copyOfRange(bytes, (int) (8 + n), bytes.length);
            assertArrayEquals(SafeTensorsTest.concat(le(ODD), SafeTensorsTest.le(1f, 2f)), data);
        }
    }

    @Test
    void loadsAHandWrittenBf16FileBitForBit() throws IOException {
        String json = "{\"w\":{\"dtype\":\"BF16\",\"shape\":[4,2],\"data_offsets\":[0,16]},"
                + "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[16,20]}}";
        Path f = dir.resolve("hand.safetensors");
        Files.write(f, SafeTensorsTest.file(json, SafeTensorsTest.concat(le(ODD), SafeTensorsTest.le(0.5f))));
        assertEquals(DType.BF16, SafeTensors.readHeader(f).tensors().get("w").dtype());
        for (Device device : devices()) {
            try (LoadedTensors loaded = SafeTensors.load(f, device)) {
                Tensor w = loaded.tensors().get("w");
                assertEquals(DType.BF16, w.dtype());
                assertArrayEquals(new int[] {4, 2}, w.shape());
                assertArrayEquals(ODD, bits(w));
                assertEquals(1f, w.toFloatArray()[0]);
                assertEquals(-2f, w.toFloatArray()[1]);
                assertEquals(0.5f, loaded.tensors().get("s").item());
            }
        }
    }

    @Test
    void largeBf16TensorsStreamThroughChunks() throws IOException {
        int n = SafeTensors.CHUNK_ELEMENTS * 2 + 11;  // two full chunks and a ragged tail
        short[] values = new short[n];
        for (int i = 0; i < n; i++) values[i] = (short) (i * 40503);
        for (Device device : devices()) {
            Path f = dir.resolve("big-" + device + ".safetensors");
            try (Tensor a = Tensor.empty(device, DType.BF16, n)) {
                a.copyFrom(values, 0, 0, n);
                SafeTensors.save(f, Map.of("a", a), Map.of());
            }
            assertEquals(n * 2L, Files.size(f) - 8 - ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN).getLong());
            try (LoadedTensors loaded = SafeTensors.load(f, device)) {
                assertArrayEquals(values, bits(loaded.tensors().get("a")));
            }
        }
    }
}

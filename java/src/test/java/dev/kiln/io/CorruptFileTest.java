package dev.kiln.io;

import dev.kiln.Device;
import dev.kiln.MemoryStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.kiln.io.SafeTensorsTest.concat;
import static dev.kiln.io.SafeTensorsTest.file;
import static dev.kiln.io.SafeTensorsTest.le;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every way a safetensors file can be wrong is refused with a message naming the file and the problem, and before
 * anything is allocated: the CPU allocator's live count does not move.
 */
class CorruptFileTest {
    @TempDir
    Path dir;

    private static final String A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
    private static final byte[] DATA = le(1f, 2f);

    /** Loads {@code bytes} as a file, expects a refusal whose message holds the file name and every fragment. */
    private void refused(byte[] bytes, String... fragments) throws IOException {
        Path f = Files.write(dir.resolve("bad.safetensors"), bytes);
        Device.cpu().memoryStats();  // the CPU context exists before the baseline
        long before = Device.cpu().memoryStats().liveAllocations();
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.load(f, Device.cpu()));
        assertEquals(before, Device.cpu().memoryStats().liveAllocations(), "nothing may be allocated for a bad file");
        assertEquals(f, e.file());
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        for (String s : fragments) assertTrue(e.getMessage().contains(s), "expected '" + s + "' in: " + e.getMessage());
        assertThrows(CheckpointException.class, () -> SafeTensors.readHeader(f));
    }

    private void refused(String json, byte[] data, String... fragments) throws IOException {
        refused(file(json, data), fragments);
    }

    @Test
    void theValidBaselineLoads() throws IOException {
        Path f = Files.write(dir.resolve("ok.safetensors"), file("{" + A + "}", DATA));
        try (LoadedTensors t = SafeTensors.load(f, Device.cpu())) {
            assertEquals(2, t.tensors().get("a").numel());
        }
    }

    @Test
    void truncatedFiles() throws IOException {
        byte[] good = file("{" + A + "}", DATA);
        refused(Arrays.copyOf(good, 5), "shorter than the 8-byte header length");
        refused(Arrays.copyOf(good, 20), "header length", "runs past the end of the file");
        refused(Arrays.copyOf(good, good.length - 3), "run past the end", "truncated");
        refused(new byte[0], "0 bytes long");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        byte[] b = file("{" + A + "}", DATA);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -5L);
        refused(b, "over the", "limit");
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 200_000_000L);
        refused(b, "over the", "limit");
    }

    @Test
    void badJson() throws IOException {
        refused("{" + A, DATA, "not valid JSON");
        refused("{" + A + ",}", DATA, "not valid JSON");
        refused("[1, 2]  ", DATA, "does not start with '{'");
        refused("{" + A + "}x", DATA, "not valid JSON");
    }

    @Test
    void notUtf8() throws IOException {
        byte[] b = file("{\"\u00e9\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", DATA);
        b[10] = (byte) 0xff;  // inside the name
        refused(b, "not valid UTF-8");
    }

    @Test
    void unknownOrUnsupportedDtype() throws IOException {
        refused("{\"a\":{\"dtype\":\"F17\",\"shape\":[2],\"data_offsets\":[0,8]}}", DATA, "tensor 'a'", "unknown dtype 'F17'");
        refused("{\"a\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]}}", DATA, "tensor 'a'", "F16", "does not hold");
        refused("{\"a\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}", DATA, "dtype must be a string");
    }

    @Test
    void malformedEntries() throws IOException {
        refused("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", DATA, "tensor 'a' lacks shape");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", DATA, "unknown field 'x'");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", DATA, "negative");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", DATA, "not a 64-bit integer");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", DATA, "[begin, end]");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", DATA, "end before they begin");
        refused("{\"a\":[1]}", DATA, "tensor 'a' must be an object");
        refused("{\"__metadata__\":{\"k\":1}," + A + "}", DATA, "__metadata__ 'k' must be a string");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[3000000000],\"data_offsets\":[0,8]}}", DATA, "more than Kiln's int dimensions");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", DATA, "64-bit");
    }

    @Test
    void sizeDisagreesWithShape() throws IOException {
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", DATA, "tensor 'a'", "needs 12 bytes", "span 8");
    }

    @Test
    void offsetsOverlapLeaveGapsOrLeaveBytesOver() throws IOException {
        String b = "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}";
        refused("{" + A + "," + b + "}", DATA, "tensor 'b'", "overlap tensor 'a'");
        String c = "\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}";
        refused("{" + c + "}", DATA, "bytes [0, 4) belong to no tensor");
        refused("{" + A + "}", concat(DATA, le(3f)), "cover 8 bytes", "holds 12");
        String far = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[1000,1008]}";
        refused("{" + far + "}", DATA, "run past the end");
    }

    @Test
    void duplicateNames() throws IOException {
        refused("{" + A + "," + A + "}", DATA, "names 'a' twice");
        refused("{\"__metadata__\":{},\"__metadata__\":{}," + A + "}", DATA, "'__metadata__' twice");
        refused("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}," + A + "}", DATA, "names 'k' twice");
    }
}

package dev.kiln.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** IDX headers crafted to overflow, to claim more than the file holds, or to stop short: each an IOException. */
class IdxTest {
    private static Path plain(Path dir, String name, int[] dims, byte[] data) throws IOException {
        return Files.write(dir.resolve(name), DataTest.idx(dims, data));
    }

    private static Path gzipped(Path dir, String name, int[] dims, byte[] data) throws IOException {
        Path file = dir.resolve(name + ".gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(DataTest.idx(dims, data));
        }
        return file;
    }

    private static IOException refused(Path file, String... expected) {
        IOException e = assertThrows(IOException.class, () -> Idx.read(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        for (String s : expected) assertTrue(e.getMessage().contains(s), e.getMessage());
        return e;
    }

    @Test
    void dimsWhoseProductOverflowsAreAnIOException(@TempDir Path dir) throws IOException {
        int max = Integer.MAX_VALUE;
        int[][] cases = {
            {65536, 65536, 65536, 65536},  // 2^64: wrapped to 0 elements, an empty "success"
            {2, max, max, max},            // wrapped to a negative long and int: NegativeArraySizeException
            {55111, 55111, 55111, 55111},  // the same, with dims of a plausible size
            {max, max},                    // fits a long, not an array
            {0, 65536, 65536},             // no elements, but items of 2^32 bytes: itemSize() wrapped to 0
        };
        for (int[] dims : cases) {
            for (Path file : new Path[] {plain(dir, "o" + dims[0], dims, new byte[16]), gzipped(dir, "o" + dims[0], dims, new byte[16])}) {
                refused(file, java.util.Arrays.toString(dims));
            }
        }
    }

    /**
     * A 2 GB claim over 10 bytes is refused as truncated: a plain file by its size before anything is allocated, a
     * gzipped one after its buffer (grown only as data arrives) ran dry.
     */
    @Test
    void aHugeClaimInATinyFileIsRefused(@TempDir Path dir) throws IOException {
        int[] dims = {2_000_000_000};
        for (Path file : new Path[] {plain(dir, "huge", dims, new byte[10]), gzipped(dir, "huge", dims, new byte[10])}) {
            refused(file, "truncated", "2000000000");
        }
    }

    @Test
    void aTruncatedPayloadIsAnIOException(@TempDir Path dir) throws IOException {
        int[] dims = {3, 28, 28};
        byte[] partial = new byte[3 * 28 * 28 - 1];
        refused(plain(dir, "short", dims, partial), "truncated", "[3, 28, 28]");
        refused(gzipped(dir, "short", dims, partial), "truncated", "got " + partial.length);
        byte[] header = java.util.Arrays.copyOf(DataTest.idx(dims, new byte[0]), 10);
        refused(Files.write(dir.resolve("header"), header), "truncated", "header");
        // A gzipped payload larger than the first buffer still reads back whole.
        byte[] big = new byte[5 << 20];
        for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 31 + (i >> 13));
        Idx.UByteArray a = Idx.read(gzipped(dir, "big", new int[] {5, 1024, 1024}, big));
        assertArrayEquals(big, a.data());
        assertArrayEquals(new int[] {5, 1024, 1024}, a.dims());
    }
}

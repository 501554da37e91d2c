package dev.kiln.io;

import dev.kiln.Device;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A save that fails part-way leaves the previous file byte for byte and no temporary file behind. */
class AtomicWriteTest {
    @TempDir
    Path dir;

    /** A channel that writes {@code budget} bytes, then fails as a full disk would. */
    private static UnaryOperator<WritableByteChannel> failAfter(long budget) {
        return ch -> new WritableByteChannel() {
            long left = budget;

            @Override
            public int write(ByteBuffer src) throws IOException {
                if (left <= 0) throw new IOException("injected: no space left on device");
                int n = (int) Math.min(left, src.remaining());
                ByteBuffer part = src.slice().limit(n);
                int written = ch.write(part);
                src.position(src.position() + written);
                left -= written;
                return written;
            }

            @Override
            public boolean isOpen() {
                return ch.isOpen();
            }

            @Override
            public void close() throws IOException {
                ch.close();
            }
        };
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void failingWriterLeavesThePreviousFile() throws IOException {
        Path f = dir.resolve("ckpt.safetensors");
        try (Tensor old = Tensor.of(new float[] {1f, 2f, 3f}, 3); Tensor big = Tensor.zeros(Device.cpu(), 100_000)) {
            SafeTensors.save(f, Map.of("w", old), Map.of("v", "1"));
            byte[] before = Files.readAllBytes(f);
            for (long budget : new long[] {0, 4, 100, 200_000}) {
                IOException e = assertThrows(IOException.class, () -> SafeTensors.save(f, Map.of("w", big), null, failAfter(budget)));
                assertEquals("injected: no space left on device", e.getMessage());
                assertArrayEquals(before, Files.readAllBytes(f), "budget " + budget);
                assertEquals(List.of(f), files(), "no temporary file is left");
            }
            // And a save that succeeds replaces it.
            SafeTensors.save(f, Map.of("w", big), null);
            assertEquals(List.of(f), files());
            try (LoadedTensors t = SafeTensors.load(f, Device.cpu())) {
                assertEquals(100_000, t.tensors().get("w").numel());
            }
        }
    }

    /**
     * A saved file gets the permissions of any new file here (0666 less the umask), not a temporary file's 0600, and
     * a file replaced keeps its own: a saved model or picture stays readable by whoever could read it before.
     */
    @Test
    void savedFilesKeepOrdinaryPermissions() throws IOException {
        Assumptions.assumeTrue(Files.getFileStore(dir).supportsFileAttributeView(PosixFileAttributeView.class), "no POSIX permissions");
        Path plain = Files.createFile(dir.resolve("plain")), f = dir.resolve("w.safetensors");
        try (Tensor w = Tensor.of(new float[] {1f}, 1)) {
            SafeTensors.save(f, Map.of("w", w), null);
            assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(f), "a new file's permissions");
            Set<PosixFilePermission> custom = PosixFilePermissions.fromString("rw-r-----");
            Files.setPosixFilePermissions(f, custom);
            SafeTensors.save(f, Map.of("w", w), null);
            assertEquals(custom, Files.getPosixFilePermissions(f), "a replaced file's permissions");
        }
    }

    @Test
    void tensorClosedMidWriteLeavesThePreviousFile() throws IOException {
        Path f = dir.resolve("ckpt.safetensors");
        try (Tensor a = Tensor.of(new float[] {4f}, 1)) {
            SafeTensors.save(f, Map.of("a", a), null);
        }
        byte[] before = Files.readAllBytes(f);
        Tensor first = Tensor.of(new float[] {1f, 2f}, 2), second = Tensor.of(new float[] {3f}, 1);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("first", first);
        tensors.put("second", second);
        // The first data write closes the second tensor: the header is out, the data half written.
        UnaryOperator<WritableByteChannel> closer = ch -> new WritableByteChannel() {
            int writes;

            @Override
            public int write(ByteBuffer src) throws IOException {
                if (++writes == 3) second.close();
                return ch.write(src);
            }

            @Override
            public boolean isOpen() {
                return ch.isOpen();
            }

            @Override
            public void close() throws IOException {
                ch.close();
            }
        };
        try (first) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> SafeTensors.save(f, tensors, null, closer));
            assertEquals(true, e.getMessage().contains("closed"), e.getMessage());
        }
        assertArrayEquals(before, Files.readAllBytes(f));
        assertEquals(List.of(f), files());
        // A tensor closed before the call is refused up front, the same way.
        assertThrows(IllegalStateException.class, () -> SafeTensors.save(f, tensors, null));
        assertArrayEquals(before, Files.readAllBytes(f));
    }
}

package dev.kiln.internal;

import dev.kiln.KilnNativeLoadException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Extraction of the bundled library without {@code System.load}: a cached copy is trusted by its SHA-256, not its
 * size, and a cache root in the shared temp folder must belong to this user alone.
 */
class NativeLoaderTest {
    private static byte[] fakeLibrary() {
        byte[] bytes = new byte[200_000];
        new Random(7).nextBytes(bytes);
        return bytes;
    }

    private static void assumePosix() {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "no POSIX permissions here");
    }

    @Test
    void aCorruptCopyOfTheSameSizeIsExtractedAgain(@TempDir Path root) throws IOException {
        byte[] bytes = fakeLibrary();
        String hash = NativeLoader.sha256(bytes);
        Path target = NativeLoader.extracted(bytes, hash, root);
        assertTrue(target.startsWith(root) && target.getParent().getFileName().toString().endsWith(hash.substring(0, 16)), target.toString());
        assertArrayEquals(bytes, Files.readAllBytes(target));

        // A good copy is used as it is, not rewritten.
        Object fileKey = Files.readAttributes(target, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        assertEquals(target, NativeLoader.extracted(bytes, hash, root));
        assertEquals(fileKey, Files.readAttributes(target, java.nio.file.attribute.BasicFileAttributes.class).fileKey());

        // One flipped byte in the middle, same size: before the fix this file was loaded.
        byte[] corrupt = bytes.clone();
        corrupt[corrupt.length / 2] ^= 0x5a;
        Files.write(target, corrupt);
        assertEquals(bytes.length, Files.size(target));
        assertEquals(target, NativeLoader.extracted(bytes, hash, root));
        assertArrayEquals(bytes, Files.readAllBytes(target), "the corrupt copy was not replaced");
        try (Stream<Path> left = Files.list(target.getParent())) {
            assertEquals(List.of(target), left.toList(), "a temp file of the extraction was left behind");
        }
    }

    @Test
    void aMissingTempRootIsCreatedOwnerOnly(@TempDir Path dir) throws IOException {
        assumePosix();
        Path root = dir.resolve("kiln-someone");
        assumeTrue(root.toAbsolutePath().startsWith(Paths.get(System.getProperty("java.io.tmpdir")).toAbsolutePath()),
                "@TempDir is not in java.io.tmpdir");
        byte[] bytes = fakeLibrary();
        Path target = NativeLoader.extracted(bytes, NativeLoader.sha256(bytes), root);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root)));
        assertArrayEquals(bytes, Files.readAllBytes(target));
    }

    @Test
    void aSharedTempRootThatOthersCanWriteIsRefused(@TempDir Path dir) throws IOException {
        assumePosix();
        byte[] bytes = fakeLibrary();
        String hash = NativeLoader.sha256(bytes);
        for (String perms : new String[] {"rwxrwxrwx", "rwxrwx---", "rwx-w----", "rwx----wx"}) {
            Path root = Files.createDirectory(dir.resolve("open-" + perms.replace('-', '_')));
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString(perms));
            IOException e = assertThrows(IOException.class, () -> NativeLoader.extracted(bytes, hash, root), perms);
            assertTrue(e.getMessage().contains("refusing cache root " + root) && e.getMessage().contains("group or others can write"),
                    e.getMessage());
            assertFalse(Files.exists(root.resolve("native")), "something was written under a refused root");
        }
        Path link = Files.createSymbolicLink(dir.resolve("link"), Files.createDirectory(dir.resolve("real")));
        IOException e = assertThrows(IOException.class, () -> NativeLoader.extracted(bytes, hash, link));
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
    }

    @Test
    void aSharedTempRootOwnedBySomeoneElseIsRefused(@TempDir Path dir) throws IOException {
        assumePosix();
        Path root = Files.createDirectory(dir.resolve("planted"));
        try {
            Files.setOwner(root, root.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        } catch (IOException | UnsupportedOperationException cannot) {
            // Giving a folder away needs root: elsewhere the case is reported as skipped, with the reason.
            org.junit.jupiter.api.Assumptions.abort("cannot give a folder to another user here (needs root): " + cannot);
        }
        assumeTrue(!Files.getOwner(root).getName().equals(System.getProperty("user.name")), "running as nobody");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        byte[] bytes = fakeLibrary();
        IOException e = assertThrows(IOException.class, () -> NativeLoader.extracted(bytes, NativeLoader.sha256(bytes), root));
        assertTrue(e.getMessage().contains("owned by nobody"), e.getMessage());
    }

    @Test
    void loadNamesTheRefusedRoot(@TempDir Path dir) throws IOException {
        assumePosix();
        Path root = Files.createDirectory(dir.resolve("open"));
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxrwxrwx"));
        byte[] bytes = fakeLibrary();
        ClassLoader jar = new ClassLoader(null) {
            @Override
            public InputStream getResourceAsStream(String name) {
                return new ByteArrayInputStream(bytes);
            }
        };
        KilnNativeLoadException e = assertThrows(KilnNativeLoadException.class, () -> NativeLoader.load(null, jar, List.of(root)));
        assertTrue(e.getMessage().contains("refusing cache root " + root), e.getMessage());
        assertFalse(Files.exists(root.resolve("native")));
    }
}

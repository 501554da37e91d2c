package dev.kiln.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Whole-file replacement that a crash cannot tear: write a temporary file beside the target, force it to disk, rename
 * it over the target (atomic on POSIX file systems), then force the directory so the rename itself survives a power
 * loss. A reader sees the old file or the new one, never a mix; a failed write leaves the old file and no temporary.
 * Every file Kiln writes goes this way (checkpoints, pictures, profiler traces, the CLI's reports).
 */
public final class AtomicFiles {
    /** Fills the temporary file. */
    public interface Body {
        /** Writes the whole new content to {@code channel}. */
        void write(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {
    }

    /** Replaces {@code target} with {@code text} in UTF-8, atomically. */
    public static void writeString(Path target, CharSequence text) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
        write(target, channel -> {
            while (bytes.hasRemaining()) channel.write(bytes);
        });
    }

    /**
     * Replaces {@code target} with what {@code body} writes, atomically. Throws {@link CheckpointException} where the
     * target is a directory, has no parent directory, or is on a file system that cannot rename atomically.
     */
    public static void write(Path target, Body body) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (dir == null) throw new CheckpointException(target, "has no parent directory to write a temporary file in");
        if (Files.isDirectory(absolute)) throw new CheckpointException(target, "is a directory");
        Path tmp = createTemporary(dir, absolute.getFileName().toString());
        boolean done = false;
        try {
            keepPermissions(absolute, tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                body.write(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new CheckpointException(target, "the file system cannot replace it atomically: " + e.getMessage(), e);
            }
            done = true;
            syncDirectory(dir);
        } finally {
            if (!done) Files.deleteIfExists(tmp);
        }
    }

    /**
     * A new empty file beside the target, in the same directory because a rename across file systems is a copy, and
     * not atomic. Made with the permissions any new file gets (0666 less the umask), not createTempFile's 0600, which
     * the rename would carry over: a saved model or picture would be readable by its owner alone.
     */
    private static Path createTemporary(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + name + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
            try {
                return Files.createFile(tmp);
            } catch (FileAlreadyExistsException e) {
                if (attempt == 16) throw e;
            }
        }
    }

    /** A file replaced keeps its permissions (where the file system has POSIX ones). */
    private static void keepPermissions(Path target, Path tmp) throws IOException {
        if (!Files.isRegularFile(target) || !Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class)) return;
        Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(target));
    }

    /**
     * Makes the rename durable. Linux allows fsync on a directory opened for reading; platforms that refuse to open
     * a directory (Windows) make renames durable by themselves, so a refusal there is not an error.
     */
    private static void syncDirectory(Path dir) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(dir, StandardOpenOption.READ);
        } catch (IOException e) {
            return;
        }
        try (ch) {
            ch.force(true);
        }
    }
}

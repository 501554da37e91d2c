package dev.kiln.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Whole-file replacement that a crash cannot tear: write a temporary file beside the target, force it to disk, rename
 * it over the target (atomic on POSIX file systems), then force the directory so the rename itself survives a power
 * loss. A reader sees the old file or the new one, never a mix; a failed write leaves the old file and no temporary.
 */
final class AtomicFiles {
    /** Fills the temporary file. */
    interface Body {
        void write(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {
    }

    static void write(Path target, Body body) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (dir == null) throw new CheckpointException(target, "has no parent directory to write a temporary file in");
        if (Files.isDirectory(absolute)) throw new CheckpointException(target, "is a directory");
        // In the same directory: a rename across file systems is a copy, and not atomic.
        Path tmp = Files.createTempFile(dir, "." + absolute.getFileName() + ".", ".tmp");
        boolean done = false;
        try {
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

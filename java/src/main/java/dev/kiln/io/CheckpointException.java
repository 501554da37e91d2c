package dev.kiln.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint file that cannot be read or written as asked: corrupt, truncated, or not matching what it is loaded
 * into. The message starts with the file and says what is wrong; {@link #file()} and {@link #problem()} give the parts.
 */
public class CheckpointException extends IOException {
    private final transient Path file;
    /** What is wrong, without the file name. */
    private final String problem;

    /** A problem with {@code file}: the message is the file, a colon and {@code problem}. */
    public CheckpointException(Path file, String problem) {
        this(file, problem, null);
    }

    /** As {@link #CheckpointException(Path, String)}, caused by {@code cause}. */
    public CheckpointException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
        this.problem = problem;
    }

    /** The file concerned. */
    public Path file() {
        return file;
    }

    /** What is wrong, without the file name. */
    public String problem() {
        return problem;
    }
}

package dev.kiln;

/** Base of every failure the native library reports (unchecked). Bad arguments are {@link IllegalArgumentException}s. */
public class KilnException extends RuntimeException {
    /** An exception with {@code message}. */
    public KilnException(String message) {
        super(message);
    }

    /** An exception with {@code message}, caused by {@code cause}. */
    public KilnException(String message, Throwable cause) {
        super(message, cause);
    }
}

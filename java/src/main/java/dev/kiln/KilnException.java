package dev.kiln;

/** Base of every failure the native library reports (unchecked). Bad arguments are {@link IllegalArgumentException}s. */
public class KilnException extends RuntimeException {
    public KilnException(String message) {
        super(message);
    }

    public KilnException(String message, Throwable cause) {
        super(message, cause);
    }
}

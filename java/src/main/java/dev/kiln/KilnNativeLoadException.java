package dev.kiln;

/** The native library could not be found or loaded; the message names the platform and every place tried. */
public class KilnNativeLoadException extends KilnException {
    /** An exception with {@code message}, caused by {@code cause} (which may be null). */
    public KilnNativeLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}

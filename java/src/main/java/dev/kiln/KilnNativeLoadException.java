package dev.kiln;

/** The native library could not be found or loaded; the message names the platform and every place tried. */
public class KilnNativeLoadException extends KilnException {
    public KilnNativeLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}

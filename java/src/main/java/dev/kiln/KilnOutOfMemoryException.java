package dev.kiln;

/** A host or device allocation failed even after Kiln returned its cached blocks to the system. */
public class KilnOutOfMemoryException extends KilnException {
    /** An exception with {@code message}; the native glue throws these. */
    public KilnOutOfMemoryException(String message) {
        super(message);
    }
}

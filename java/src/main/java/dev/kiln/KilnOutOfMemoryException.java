package dev.kiln;

/** A host or device allocation failed even after Kiln returned its cached blocks to the system. */
public class KilnOutOfMemoryException extends KilnException {
    public KilnOutOfMemoryException(String message) {
        super(message);
    }
}

package dev.kiln;

/** The CUDA runtime reported an error; the message carries the CUDA error name and text. */
public class KilnCudaException extends KilnException {
    /** An exception with {@code message}; the native glue throws these. */
    public KilnCudaException(String message) {
        super(message);
    }
}

package dev.kiln;

/** The CUDA runtime reported an error; the message carries the CUDA error name and text. */
public class KilnCudaException extends KilnException {
    public KilnCudaException(String message) {
        super(message);
    }
}

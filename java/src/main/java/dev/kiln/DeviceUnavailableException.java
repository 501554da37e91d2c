package dev.kiln;

/** A device was requested that this machine or this build of Kiln does not have; the message says what was found. */
public class DeviceUnavailableException extends KilnException {
    /** An exception with {@code message}, which should say what was found instead. */
    public DeviceUnavailableException(String message) {
        super(message);
    }
}

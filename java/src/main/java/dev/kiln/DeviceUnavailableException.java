package dev.kiln;

/** A device was requested that this machine or this build of Kiln does not have; the message says what was found. */
public class DeviceUnavailableException extends KilnException {
    public DeviceUnavailableException(String message) {
        super(message);
    }
}

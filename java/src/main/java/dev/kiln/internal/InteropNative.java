package dev.kiln.internal;

import dev.kiln.Device;

import java.nio.Buffer;
import java.nio.ByteBuffer;

/**
 * Binding of the interop entries (native/src/jni/jni_interop.cpp): a context on a caller's CUDA stream, and the
 * addresses behind java.nio direct buffers both ways. dev.kiln.interop builds its public API on these. Not public API.
 */
public final class InteropNative {
    private InteropNative() {
    }

    /** A new context on cuda:{@code device.index()} that queues every op on the caller's {@code stream}. */
    static long contextOnStream(Device device, long stream) {
        NativeLibrary.ensureLoaded();
        if (!device.isCuda()) throw new IllegalArgumentException("useStream: " + device + " has no CUDA stream; pass a cuda device");
        if (stream == 0) throw new IllegalArgumentException("useStream: the stream is null (the legacy default stream); pass a stream of your own");
        return contextOnStream0(device.index(), stream);
    }

    /** Address of a direct buffer's element 0 (its position is the caller's to add). */
    public static long directBufferAddress(Buffer buffer) {
        NativeLibrary.ensureLoaded();
        if (buffer == null) throw new IllegalArgumentException("directBufferAddress: buffer is null");
        if (!buffer.isDirect()) throw new IllegalArgumentException("directBufferAddress: " + buffer + " is not a direct buffer");
        long address = directBufferAddress0(buffer);
        if (address == 0 && buffer.capacity() > 0) {
            throw new IllegalStateException("directBufferAddress: the JVM gives no address for " + buffer);
        }
        return address;
    }

    /** A native-order ByteBuffer over {@code bytes} at {@code address}; it owns nothing. */
    public static ByteBuffer newDirectByteBuffer(long address, long bytes) {
        NativeLibrary.ensureLoaded();
        if (bytes < 0 || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("newDirectByteBuffer: " + bytes + " bytes do not fit one java.nio buffer (at most 2^31 - 1)");
        }
        ByteBuffer b = newDirectByteBuffer0(address, bytes);
        if (b == null) throw new IllegalStateException("newDirectByteBuffer: this JVM does not support JNI direct buffers");
        return b.order(java.nio.ByteOrder.nativeOrder());
    }

    // ---- natives (registered by JNI_OnLoad from native/src/jni/jni_interop.cpp) ----------------------------------

    private static native long contextOnStream0(int index, long stream);
    private static native long directBufferAddress0(Buffer buffer);
    private static native ByteBuffer newDirectByteBuffer0(long address, long bytes);
}

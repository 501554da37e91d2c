package dev.kiln.interop;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Tensor;
import dev.kiln.internal.InteropNative;
import dev.kiln.internal.TensorAccess;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/**
 * CPU tensors as java.nio direct buffers and direct buffers as CPU tensors, without copies.
 *
 * <p>{@link #wrap} makes a CPU tensor over a buffer's remaining elements ({@code [position, limit)}): ops read and
 * write the buffer's memory, and the tensor keeps the buffer reachable until it and every view of it are closed, but
 * never frees it. {@link #asByteBuffer} and friends view an open CPU tensor's memory as a native-order buffer that
 * owns nothing: valid while the tensor is open (keep the tensor reachable too; the garbage collector's safety net
 * would free a forgotten one under the buffer). Reading a view after the tensor is closed reads freed memory, which
 * Kiln cannot detect: close the tensor only when the buffer is done with.
 */
public final class DirectBuffers {
    private static final TensorAccess TENSORS = TensorAccess.get();

    private DirectBuffers() {
    }

    /** An f32 CPU tensor over {@code buffer}'s remaining floats; the buffer must be direct, writable and native-order. */
    public static Tensor wrap(FloatBuffer buffer, int... shape) {
        checkOrder(buffer, buffer == null ? null : buffer.order());
        return wrapRemaining(buffer, DType.F32, shape);
    }

    /** An i32 CPU tensor over {@code buffer}'s remaining ints; the buffer must be direct, writable and native-order. */
    public static Tensor wrap(IntBuffer buffer, int... shape) {
        checkOrder(buffer, buffer == null ? null : buffer.order());
        return wrapRemaining(buffer, DType.I32, shape);
    }

    /**
     * A CPU tensor of {@code dtype} over {@code buffer}'s remaining bytes. Kiln reads the bytes in the machine's order,
     * whatever the buffer's {@link ByteBuffer#order()}: give it {@code ByteOrder.nativeOrder()} to read the same values.
     */
    public static Tensor wrap(ByteBuffer buffer, DType dtype, int... shape) {
        if (dtype == null) throw new IllegalArgumentException("wrap: dtype is null");
        return wrapRemaining(buffer, dtype, shape);
    }

    /** The memory of an open CPU tensor as a native-order ByteBuffer of {@code numel * dtype.bytes()} bytes. */
    public static ByteBuffer asByteBuffer(Tensor t) {
        if (t == null) throw new IllegalArgumentException("asByteBuffer: tensor is null");
        if (!t.device().isCpu()) {
            throw new IllegalArgumentException("asByteBuffer: " + t + " is not in host memory; copy it with t.to(Device.cpu()), "
                    + "or see JCudaInterop.pointerOf for its device pointer");
        }
        long address = TENSORS.address(t);  // refuses a closed tensor
        return InteropNative.newDirectByteBuffer(address, t.numel() * t.dtype().bytes());
    }

    /** The memory of an open f32 CPU tensor as a FloatBuffer (see {@link #asByteBuffer}). */
    public static FloatBuffer asFloatBuffer(Tensor t) {
        requireDType("asFloatBuffer", t, DType.F32);
        return asByteBuffer(t).asFloatBuffer();
    }

    /** The memory of an open i32 CPU tensor as an IntBuffer (see {@link #asByteBuffer}). */
    public static IntBuffer asIntBuffer(Tensor t) {
        requireDType("asIntBuffer", t, DType.I32);
        return asByteBuffer(t).asIntBuffer();
    }

    /** A CPU tensor over [position, limit) of a direct buffer (positions count elements of the buffer's own type). */
    private static Tensor wrapRemaining(Buffer buffer, DType dtype, int[] shape) {
        if (buffer == null) throw new IllegalArgumentException("wrap: buffer is null");
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("wrap: " + buffer + " is not direct: a heap buffer's array moves with the garbage "
                    + "collector; allocate it with ByteBuffer.allocateDirect");
        }
        if (buffer.isReadOnly()) throw new IllegalArgumentException("wrap: " + buffer + " is read-only, and Kiln's ops may write a tensor");
        int elementBytes = buffer instanceof ByteBuffer ? 1 : dtype.bytes();
        long address = InteropNative.directBufferAddress(buffer) + (long) buffer.position() * elementBytes;
        return Memory.wrap(Device.cpu(), dtype, shape, address, (long) buffer.remaining() * elementBytes, buffer);
    }

    private static void checkOrder(Buffer buffer, ByteOrder order) {
        if (buffer != null && order != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("wrap: " + buffer + " is " + order + " but Kiln's memory is " + ByteOrder.nativeOrder()
                    + ": make the view with byteBuffer.order(ByteOrder.nativeOrder())");
        }
    }

    private static void requireDType(String op, Tensor t, DType dtype) {
        if (t == null) throw new IllegalArgumentException(op + ": tensor is null");
        t.requireDType(op, dtype);
    }
}

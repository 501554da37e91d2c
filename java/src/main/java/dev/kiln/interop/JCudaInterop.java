package dev.kiln.interop;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Tensor;
import dev.kiln.internal.Contexts;
import dev.kiln.internal.InteropNative;
import dev.kiln.internal.TensorAccess;
import jcuda.Pointer;
import jcuda.driver.CUstream;
import jcuda.runtime.cudaStream_t;

import java.nio.ByteBuffer;

/**
 * JCuda and Kiln share memory without copies, both ways, and Kiln can queue its ops on a JCuda stream. Needs
 * org.jcuda:jcuda on the class path (an optional dependency of Kiln: nothing else in Kiln loads a JCuda class).
 *
 * <pre>{@code
 * Pointer dx = new Pointer();
 * JCuda.cudaMalloc(dx, n * 4L);                                       // JCuda owns this memory
 * try (Tensor x = JCudaInterop.wrap(dx, Device.cuda(0), rows, cols);   // no copy; closing x frees nothing
 *      Tensor y = x.relu()) {                                          // a Kiln op on JCuda's memory
 *     cublasSgemm(..., JCudaInterop.pointerOf(y), ...);                // Kiln's output, read in place by JCublas
 * }
 * JCuda.cudaFree(dx);
 * }</pre>
 *
 * <p><b>Lifetimes.</b> {@link #wrap} does not take ownership: the caller keeps the memory alive (no cudaFree) until
 * the tensor and every view of it are closed, and closing them never frees it. {@link #pointerOf} owns nothing: the
 * pointer is valid while the tensor is open, and JCuda cannot be stopped from using it after.
 *
 * <p><b>Ordering.</b> Kiln queues each device's ops on one stream of its own. Work the caller queued on another stream
 * is not ordered with it: synchronize in between (cudaStreamSynchronize, {@link Device#synchronize()}), or make Kiln
 * use the caller's stream with {@link #useStream} before its first use of the device. Kiln's CUDA runtime is linked
 * statically and JCuda's is its own; both use the device's primary context, so pointers and streams pass between them.
 */
public final class JCudaInterop {
    private static final TensorAccess TENSORS = TensorAccess.get();

    private JCudaInterop() {
    }

    /** An f32 tensor over {@code pointer}'s memory (see {@link #wrap(Pointer, Device, DType, int...)}). */
    public static Tensor wrap(Pointer pointer, Device device, int... shape) {
        return wrap(pointer, device, DType.F32, shape);
    }

    /**
     * A tensor of {@code shape} and {@code dtype} over the memory {@code pointer} refers to, without copying or taking
     * ownership. On a CUDA device the pointer is device memory of that device (JCuda's cudaMalloc, with or without a
     * byte offset); its size cannot be known, so the caller vouches that it holds the shape. On the CPU it is host
     * memory: cudaMallocHost's, or {@code Pointer.to(ByteBuffer)} over a direct buffer (checked to hold the shape, and
     * kept reachable by the tensor). {@code Pointer.to(float[])} and other arrays are refused: the garbage collector
     * moves arrays.
     */
    public static Tensor wrap(Pointer pointer, Device device, DType dtype, int... shape) {
        if (pointer == null) throw new IllegalArgumentException("wrap: pointer is null");
        if (device == null) throw new IllegalArgumentException("wrap: device is null");
        JCudaPointer.Target target = JCudaPointer.target(pointer);
        if (target.address() != 0) {
            return Memory.wrap(device, dtype, shape, target.address(), neededBytes(dtype, shape), pointer);
        }
        ByteBuffer buffer = target.buffer();
        if (buffer == null || !buffer.isDirect()) {
            throw new IllegalArgumentException("wrap: " + pointer + " refers to " + (buffer == null ? "no native memory Kiln can "
                    + "see (a Java array, a non-byte buffer, or null)" : "a heap buffer") + "; wrap device memory from "
                    + "cudaMalloc, host memory from cudaMallocHost or Pointer.to(a direct ByteBuffer), or a direct FloatBuffer "
                    + "with DirectBuffers.wrap");
        }
        if (!device.isCpu()) {
            throw new IllegalArgumentException("wrap: " + pointer + " is a host buffer, not memory of " + device);
        }
        long address = InteropNative.directBufferAddress(buffer) + target.byteOffset();
        long bytes = buffer.capacity() - target.byteOffset();
        if (bytes < 0) throw new IllegalArgumentException("wrap: the byte offset of " + pointer + " is past its buffer's end");
        return Memory.wrap(device, dtype, shape, address, bytes, buffer);
    }

    /**
     * The memory of an open tensor as a JCuda Pointer: a device pointer on CUDA (for cudaMemcpy, JCublas, JCudnn, kernel
     * arguments), a pointer to host memory backed by a direct ByteBuffer on the CPU ({@code getByteBuffer()} returns it).
     * Valid while the tensor is open (see the class comment).
     */
    public static Pointer pointerOf(Tensor t) {
        if (t == null) throw new IllegalArgumentException("pointerOf: tensor is null");
        if (t.device().isCpu()) return Pointer.to(DirectBuffers.asByteBuffer(t));
        return new JCudaPointer(TENSORS.address(t));  // refuses a closed tensor
    }

    /**
     * Makes Kiln queue every op on {@code device} on the caller's stream, so they are ordered with the caller's own
     * JCuda work without synchronizing. Call it before Kiln's first use of the device (an {@link IllegalStateException}
     * after): the binding holds for the life of the JVM, and the caller keeps the stream alive (never destroys it) for as
     * long as Kiln may run.
     */
    public static void useStream(Device device, cudaStream_t stream) {
        if (device == null || stream == null) throw new IllegalArgumentException("useStream: device and stream must not be null");
        Contexts.bindStream(device, JCudaPointer.streamAddress(stream));
    }

    /** {@link #useStream(Device, cudaStream_t)} for a driver API stream. */
    public static void useStream(Device device, CUstream stream) {
        if (device == null || stream == null) throw new IllegalArgumentException("useStream: device and stream must not be null");
        Contexts.bindStream(device, JCudaPointer.streamAddress(stream));
    }

    /** What a device pointer must hold for the shape (its real size is unknown to Kiln and JCuda alike). */
    private static long neededBytes(DType dtype, int[] shape) {
        if (dtype == null) throw new IllegalArgumentException("wrap: dtype is null");
        if (shape == null) throw new IllegalArgumentException("wrap: shape is null");
        long n = dtype.bytes();
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("wrap: negative dimension " + d);
            n = Math.multiplyExact(n, d);
        }
        return n;
    }
}

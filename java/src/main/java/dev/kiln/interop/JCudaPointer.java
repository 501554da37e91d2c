package dev.kiln.interop;

import jcuda.Pointer;
import jcuda.driver.CUstream;
import jcuda.runtime.cudaStream_t;

import java.nio.ByteBuffer;

/**
 * Reads and makes JCuda pointers through JCuda's own protected API: a subclass may copy a Pointer and read its native
 * address and byte offset, and may make one over an address. No reflection, so it works with JCuda on the class path
 * or the module path.
 */
final class JCudaPointer extends Pointer {
    /** A Pointer over a raw address (a device pointer on CUDA), as JCuda's cudaMalloc returns one. */
    JCudaPointer(long address) {
        super(address);
    }

    /** A copy of {@code p} whose fields this class may read. */
    private JCudaPointer(Pointer p) {
        super(p);
    }

    /** What a JCuda Pointer refers to: native memory at an address, or a java.nio buffer (plus a byte offset). */
    record Target(long address, ByteBuffer buffer, long byteOffset) {
    }

    static Target target(Pointer p) {
        JCudaPointer copy = new JCudaPointer(p);
        long offset = copy.getByteOffset();
        if (copy.getNativePointer() != 0) return new Target(copy.getNativePointer() + offset, null, offset);
        // A buffer-backed Pointer: JCuda hands out the ByteBuffer (null for other buffer types, whose memory is an array
        // or not reachable through its public API).
        return new Target(0, p.getByteBuffer(), offset);
    }

    /** The address of a cudaStream_t, read through a CUstream copy (JCuda's public conversion). */
    static long streamAddress(cudaStream_t stream) {
        return new StreamCopy(new CUstream(stream)).address();
    }

    static long streamAddress(CUstream stream) {
        return new StreamCopy(stream).address();
    }

    private static final class StreamCopy extends cudaStream_t {
        StreamCopy(CUstream stream) {
            super(stream);
        }

        long address() {
            return getNativePointer();
        }
    }
}

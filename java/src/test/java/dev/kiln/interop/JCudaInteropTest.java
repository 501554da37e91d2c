package dev.kiln.interop;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.runtime.JCuda;
import jcuda.runtime.cudaMemcpyKind;
import jcuda.runtime.cudaStream_t;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * JCuda pointers as Kiln tensors and back. The host-memory cases use only JCuda's pure-Java classes (Pointer needs no
 * native library) and run everywhere; the device cases need a GPU and JCuda's runtime natives, and are skipped visibly
 * (with the reason) elsewhere.
 */
class JCudaInteropTest {
    private static ByteBuffer directFloats(float... values) {
        ByteBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder());
        b.asFloatBuffer().put(values);
        return b;
    }

    // ---- host memory: runs here --------------------------------------------------------------------------------

    @Test
    void aHostPointerBecomesATensorThatOpsWriteThrough() {
        ByteBuffer x = directFloats(1, -2, 3, -4);
        ByteBuffer y = directFloats(10, 20, 30, 40);
        try (Tensor tx = JCudaInterop.wrap(Pointer.to(x), Device.cpu(), 2, 2);
             Tensor ty = JCudaInterop.wrap(Pointer.to(y), Device.cpu(), 2, 2); Scope s = Scope.open()) {
            assertArrayEquals(new float[] {1, -2, 3, -4}, tx.toFloatArray());
            Ops.axpy_(0.5f, Ops.relu(tx), ty);               // y += 0.5 relu(x), in the caller's memory
        }
        assertArrayEquals(new float[] {10.5f, 20, 31.5f, 40}, floats(y, 4));
        assertArrayEquals(new float[] {1, -2, 3, -4}, floats(x, 4), "closing the tensors left the memory alone");
    }

    @Test
    void aByteOffsetMovesTheStartAndTheBufferBoundsTheShape() {
        Pointer p = Pointer.to(directFloats(0, 0, 5, 6, 7)).withByteOffset(2 * Sizeof.FLOAT);
        try (Tensor t = JCudaInterop.wrap(p, Device.cpu(), 3)) {
            assertArrayEquals(new float[] {5, 6, 7}, t.toFloatArray());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JCudaInterop.wrap(p, Device.cpu(), 4));
        assertTrue(e.getMessage().contains("needs 16 bytes but the memory holds 12"), e.getMessage());
    }

    @Test
    void aCpuTensorsPointerIsItsMemory() {
        try (Tensor t = Tensor.of(new float[] {1.5f, 2.5f, 3.5f}, 3)) {
            Pointer p = JCudaInterop.pointerOf(t);
            ByteBuffer seen = p.getByteBuffer();
            assertNotNull(seen, "a host pointer JCuda can read back");
            assertEquals(2.5f, seen.getFloat(4));
            try (Tensor again = JCudaInterop.wrap(p, Device.cpu(), DType.F32, 3)) {  // the round trip shares memory
                Ops.fill_(again, 9f);
            }
            assertArrayEquals(new float[] {9, 9, 9}, t.toFloatArray());
        }
    }

    @Test
    void aNativeAddressWithAnOffsetIsReadThroughJCudasApi() {
        // The shape of cudaMalloc's and cudaMallocHost's pointers: an address in the Pointer itself, no buffer.
        JCudaPointer.Target t = JCudaPointer.target(new JCudaPointer(0x7f00_0000_1000L).withByteOffset(64));
        assertEquals(0x7f00_0000_1040L, t.address());
    }

    @Test
    void refusesMemoryItCannotShare() {
        IllegalArgumentException array = assertThrows(IllegalArgumentException.class,
                () -> JCudaInterop.wrap(Pointer.to(new float[4]), Device.cpu(), 4));
        assertTrue(array.getMessage().contains("Java array"), array.getMessage());
        assertThrows(IllegalArgumentException.class, () -> JCudaInterop.wrap(Pointer.to(new byte[16]), Device.cpu(), 4),
                "a heap ByteBuffer's array moves");
        assertThrows(IllegalArgumentException.class, () -> JCudaInterop.wrap(new Pointer(), Device.cpu(), 4), "null pointer");
        assertThrows(IllegalArgumentException.class,
                () -> JCudaInterop.wrap(Pointer.to(directFloats(1, 2)).withByteOffset(2), Device.cpu(), 1), "misaligned");
        assertThrows(IllegalArgumentException.class, () -> JCudaInterop.useStream(Device.cpu(), new cudaStream_t()));

        Tensor closed = Tensor.zeros(2);
        closed.close();
        assertThrows(IllegalStateException.class, () -> JCudaInterop.pointerOf(closed), "no pointer to a closed tensor");
        Tensor wrapped = JCudaInterop.wrap(Pointer.to(directFloats(1, 2)), Device.cpu(), 2);
        wrapped.close();
        assertThrows(IllegalStateException.class, wrapped::toFloatArray, "a closed wrapping tensor is refused like any");
    }

    // ---- device memory: needs a GPU and JCuda's natives ----------------------------------------------------------

    @Test
    void deviceMemoryGoesFromJCudaToKilnAndBack() {
        Device gpu = requireJCudaDevice();
        float[] host = {-1, 2, -3, 4, -5, 6};
        Pointer d = new Pointer();
        JCuda.cudaMalloc(d, host.length * (long) Sizeof.FLOAT);
        try {
            JCuda.cudaMemcpy(d, Pointer.to(host), host.length * (long) Sizeof.FLOAT, cudaMemcpyKind.cudaMemcpyHostToDevice);
            try (Tensor x = JCudaInterop.wrap(d, gpu, 2, 3); Scope s = Scope.open()) {
                Tensor r = Ops.relu(x);
                assertArrayEquals(new float[] {0, 2, 0, 4, 0, 6}, r.toFloatArray(), "Kiln read JCuda's memory");
                Ops.scale_(x, 10f);                                   // Kiln writes JCuda's memory
                float[] fromKiln = new float[6];
                Pointer rp = JCudaInterop.pointerOf(r);              // and JCuda reads Kiln's
                gpu.synchronize();
                JCuda.cudaMemcpy(Pointer.to(fromKiln), rp, 6L * Sizeof.FLOAT, cudaMemcpyKind.cudaMemcpyDeviceToHost);
                assertArrayEquals(new float[] {0, 2, 0, 4, 0, 6}, fromKiln);
            }
            float[] back = new float[6];
            JCuda.cudaMemcpy(Pointer.to(back), d, 6L * Sizeof.FLOAT, cudaMemcpyKind.cudaMemcpyDeviceToHost);
            assertArrayEquals(new float[] {-10, 20, -30, 40, -50, 60}, back, "closing the tensor left JCuda's memory alive");
        } finally {
            JCuda.cudaFree(d);
        }
    }

    @Test
    void useStreamIsRefusedOnceKilnHasUsedTheDevice() {
        Device gpu = requireJCudaDevice();
        try (Tensor t = Tensor.zeros(gpu, 1)) {
            cudaStream_t stream = new cudaStream_t();
            JCuda.cudaStreamCreate(stream);
            try {
                assertThrows(IllegalStateException.class, () -> JCudaInterop.useStream(gpu, stream));
            } finally {
                JCuda.cudaStreamDestroy(stream);
            }
        }
    }

    /** A CUDA device that Kiln and JCuda both see, or a visible skip saying which is missing. */
    static Device requireJCudaDevice() {
        Assumptions.assumeTrue(Device.cudaAvailable(), () -> "CUDA SKIPPED: " + Device.cudaUnavailableReason());
        String jcuda;
        try {
            JCuda.setExceptionsEnabled(true);
            int[] count = {0};
            JCuda.cudaGetDeviceCount(count);
            jcuda = count[0] > 0 ? null : "JCuda sees no CUDA device";
        } catch (Throwable t) {  // UnsatisfiedLinkError from JCuda's loader, or a CudaException
            jcuda = "JCuda's runtime natives (jcuda-natives " + jcudaVersion() + ", linux-x86_64) are not usable: " + t;
        }
        String reason = jcuda;
        Assumptions.assumeTrue(reason == null, () -> "JCUDA SKIPPED: " + reason);
        return Device.cuda(0);
    }

    private static String jcudaVersion() {
        try {
            return jcuda.JCudaVersion.get();
        } catch (Throwable t) {
            return "?";
        }
    }

    static float[] floats(ByteBuffer b, int n) {
        float[] out = new float[n];
        FloatBuffer f = b.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
        f.get(0, out);
        return out;
    }
}

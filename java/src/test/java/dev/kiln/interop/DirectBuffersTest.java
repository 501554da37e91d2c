package dev.kiln.interop;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CPU tensors over direct buffers and direct buffers over CPU tensors: shared memory both ways, and its lifetime rules. */
class DirectBuffersTest {
    private static FloatBuffer floats(float... values) {
        FloatBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(values).flip();
        return b;
    }

    @Test
    void opsReadAWrappedBufferAndWriteIntoIt() {
        FloatBuffer a = floats(1, 2, 3, 4, 5, 6);          // (2, 3)
        FloatBuffer b = floats(1, 0, 0, 1, 2, -1);         // (3, 2)
        FloatBuffer out = floats(new float[4]);            // (2, 2), the caller's output memory
        try (Tensor ta = DirectBuffers.wrap(a, 2, 3); Tensor tb = DirectBuffers.wrap(b, 3, 2);
             Tensor to = DirectBuffers.wrap(out, 2, 2); Scope s = Scope.open()) {
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, ta.toFloatArray());
            Ops.copy_(to, ta.matmul(tb));                  // written straight into `out`
        }
        assertArrayEquals(new float[] {7, -1, 16, -1}, toArray(out));
    }

    @Test
    void aWriteThroughTheBufferIsSeenByTheTensorAndBack() {
        FloatBuffer buf = floats(0, 0, 0, 0);
        try (Tensor t = DirectBuffers.wrap(buf, 4)) {
            buf.put(2, 7.5f);
            assertArrayEquals(new float[] {0, 0, 7.5f, 0}, t.toFloatArray());
            Ops.fill_(t, -2f);
            assertArrayEquals(new float[] {-2, -2, -2, -2}, toArray(buf));
        }
    }

    @Test
    void wrapStartsAtThePositionAndChecksTheRemainingSize() {
        FloatBuffer buf = floats(9, 8, 1, 2, 3, 4);
        buf.position(2);
        try (Tensor t = DirectBuffers.wrap(buf, 2, 2)) {
            assertArrayEquals(new float[] {1, 2, 3, 4}, t.toFloatArray());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DirectBuffers.wrap(buf, 5));
        assertTrue(e.getMessage().contains("needs 20 bytes but the memory holds 16"), e.getMessage());
    }

    @Test
    void closingAWrappingTensorLeavesTheCallersMemoryAlone() {
        Device cpu = Device.cpu();
        long allocsBefore = cpu.memoryStats().totalAllocations();
        FloatBuffer buf = floats(1, 2, 3);
        Tensor view;
        try (Scope s = Scope.open()) {
            Tensor t = DirectBuffers.wrap(buf, 3);
            view = s.keep(t.view(1, 3));
            assertEquals(allocsBefore, cpu.memoryStats().totalAllocations(), "wrapping allocates nothing");
        }                                                  // t closed by the scope; the view still shares the memory
        assertArrayEquals(new float[] {1, 2, 3}, view.toFloatArray());
        view.close();  // would throw had it handed the caller's address to Kiln's allocator ("not allocated by this context")
        assertArrayEquals(new float[] {1, 2, 3}, toArray(buf), "the caller's memory is intact after close");
        assertThrows(IllegalStateException.class, view::toFloatArray);
    }

    @Test
    void aBufferViewSharesTheTensorsMemory() {
        try (Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
            FloatBuffer v = DirectBuffers.asFloatBuffer(t);
            assertEquals(6, v.capacity());
            assertTrue(v.isDirect());
            assertEquals(3f, v.get(2));
            v.put(0, 10f);
            Ops.scale_(t, 2f);
            assertArrayEquals(new float[] {20, 4, 6, 8, 10, 12}, toArray(v));
            ByteBuffer bytes = DirectBuffers.asByteBuffer(t);
            assertEquals(24, bytes.capacity());
            assertEquals(ByteOrder.nativeOrder(), bytes.order());
            assertEquals(4f, bytes.getFloat(4));
        }
    }

    @Test
    void intTensorsRoundTrip() {
        IntBuffer labels = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).asIntBuffer();
        labels.put(new int[] {3, 1, 4, 1}).flip();
        try (Tensor t = DirectBuffers.wrap(labels, 4)) {
            assertEquals(DType.I32, t.dtype());
            assertArrayEquals(new int[] {3, 1, 4, 1}, t.toIntArray());
            IntBuffer back = DirectBuffers.asIntBuffer(t);
            assertEquals(4, back.get(2));
        }
    }

    @Test
    void aWrappedByteBufferIsReadInTheMachinesOrder() {
        ByteBuffer raw = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
        raw.putFloat(0, 1.5f).putFloat(4, -3f);
        try (Tensor t = DirectBuffers.wrap(raw, DType.F32, 2)) {
            assertArrayEquals(new float[] {1.5f, -3f}, t.toFloatArray());
        }
    }

    @Test
    void refusesWhatItCannotShare() {
        assertThrows(IllegalArgumentException.class, () -> DirectBuffers.wrap(FloatBuffer.allocate(4), 4), "heap buffer");
        assertThrows(IllegalArgumentException.class, () -> DirectBuffers.wrap(floats(1, 2).asReadOnlyBuffer(), 2));
        FloatBuffer bigEndian = ByteBuffer.allocateDirect(8).order(ByteOrder.BIG_ENDIAN).asFloatBuffer();
        if (ByteOrder.nativeOrder() != ByteOrder.BIG_ENDIAN) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DirectBuffers.wrap(bigEndian, 2));
            assertTrue(e.getMessage().contains("nativeOrder"), e.getMessage());
        }
        ByteBuffer odd = ByteBuffer.allocateDirect(16).position(1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DirectBuffers.wrap(odd, DType.F32, 2));
        assertTrue(e.getMessage().contains("not aligned"), e.getMessage());

        Tensor closed = Tensor.zeros(3);
        closed.close();
        assertThrows(IllegalStateException.class, () -> DirectBuffers.asFloatBuffer(closed), "no view of a closed tensor");
        try (Tensor ints = Tensor.ofInts(Device.cpu(), new int[] {1}, 1)) {
            assertThrows(IllegalArgumentException.class, () -> DirectBuffers.asFloatBuffer(ints));
        }
    }

    @Test
    void theTensorKeepsAWrappedBufferReachable() throws Exception {
        Tensor t = DirectBuffers.wrap(floats(4, 5, 6), 3);  // the only reference to the buffer is the tensor's
        for (int i = 0; i < 3; i++) {
            System.gc();
            byte[] churn = new byte[8 << 20];
            churn[i] = 1;
            Thread.sleep(20);
        }
        assertArrayEquals(new float[] {4, 5, 6}, t.toFloatArray());
        t.close();
    }

    static float[] toArray(FloatBuffer b) {
        float[] out = new float[b.limit()];
        b.get(0, out);
        return out;
    }
}

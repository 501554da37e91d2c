package dev.kiln.io;

import dev.kiln.DType;
import dev.kiln.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;

/**
 * Moves tensor data between native memory and a file in little-endian order through one bounded buffer, a slice of
 * the tensor at a time, so no tensor is ever materialized whole on the Java heap.
 */
final class TensorStreams {
    private final ByteBuffer bytes;
    private final float[] floats;
    private final int[] ints;
    private final short[] shorts;

    TensorStreams(int chunkElements) {
        this.bytes = ByteBuffer.allocate(chunkElements * 4).order(ByteOrder.LITTLE_ENDIAN);
        this.floats = new float[chunkElements];
        this.ints = new int[chunkElements];
        this.shorts = new short[chunkElements];
    }

    /** Appends the data of {@code t} to {@code out}. */
    void write(Tensor t, WritableByteChannel out) throws IOException {
        long n = t.numel();
        for (long at = 0; at < n; at += floats.length) {
            int count = (int) Math.min(floats.length, n - at);
            bytes.clear();
            switch (t.dtype()) {
                case F32 -> {
                    t.copyTo(at, floats, 0, count);
                    bytes.asFloatBuffer().put(floats, 0, count);
                }
                case I32 -> {
                    t.copyTo(at, ints, 0, count);
                    bytes.asIntBuffer().put(ints, 0, count);
                }
                case BF16 -> {
                    t.copyTo(at, shorts, 0, count);
                    bytes.asShortBuffer().put(shorts, 0, count);
                }
            }
            bytes.limit(count * t.dtype().bytes());
            SafeTensors.writeFully(out, bytes);
        }
    }

    /** Fills {@code t} from the file bytes starting at {@code position}. */
    void read(Path file, String name, FileChannel in, long position, Tensor t) throws IOException {
        long n = t.numel();
        int size = t.dtype().bytes();
        for (long at = 0; at < n; at += floats.length) {
            int count = (int) Math.min(floats.length, n - at);
            bytes.clear().limit(count * size);
            long from = position + at * size;
            while (bytes.hasRemaining()) {
                if (in.read(bytes, from + bytes.position()) < 0) {
                    throw new CheckpointException(file, "ended at byte " + (from + bytes.position()) + " inside tensor '" + name
                            + "': the file was truncated while it was being read");
                }
            }
            bytes.flip();
            switch (t.dtype()) {
                case F32 -> {
                    bytes.asFloatBuffer().get(floats, 0, count);
                    t.copyFrom(floats, 0, at, count);
                }
                case I32 -> {
                    bytes.asIntBuffer().get(ints, 0, count);
                    t.copyFrom(ints, 0, at, count);
                }
                case BF16 -> {
                    bytes.asShortBuffer().get(shorts, 0, count);
                    t.copyFrom(shorts, 0, at, count);
                }
            }
        }
    }
}

package dev.kiln.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/** Reader for the IDX format of (Fashion-)MNIST: unsigned-byte arrays with big-endian dimensions, gzipped or not. */
public final class Idx {
    /** An unsigned-byte array: {@code dims} and the values in row-major order. */
    public record UByteArray(int[] dims, byte[] data) {
        /** Number of items: the first dimension. */
        public int count() {
            return dims[0];
        }

        /** Elements per item (the product of every dimension but the first). */
        public int itemSize() {
            int n = 1;
            for (int i = 1; i < dims.length; i++) n = Math.multiplyExact(n, dims[i]);
            return n;
        }
    }

    /** The most elements a byte[] may hold on common JVMs. */
    private static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private Idx() {
    }

    /**
     * Reads the unsigned-byte IDX array in {@code file}, gzipped or not; a malformed or truncated file is an
     * IOException naming it.
     */
    public static UByteArray read(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file)) {
            InputStream in = new BufferedInputStream(raw, 1 << 16);
            in.mark(2);
            boolean gzip = in.read() == 0x1f && in.read() == 0x8b;
            in.reset();
            // A plain file's size bounds its payload before anything is allocated; a gzipped one's is known only by
            // inflating it, so read() grows its array as the data arrives instead.
            return gzip ? read(new GZIPInputStream(in, 1 << 16), file.toString(), -1) : read(in, file.toString(), Files.size(file));
        }
    }

    /**
     * Reads one IDX array from {@code stream}; {@code streamSize} is the number of bytes the stream holds when known
     * (a plain file), else -1. A header that claims more than the stream holds, or more elements than a Java array
     * can, is an IOException naming the file and its dims, before the array it claims is allocated.
     */
    static UByteArray read(InputStream stream, String name, long streamSize) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        int magic = headerInt(in, name);
        int type = (magic >>> 8) & 0xff, rank = magic & 0xff;
        if ((magic >>> 16) != 0 || type != 0x08 || rank < 1 || rank > 4) {
            throw new IOException(name + ": not an unsigned-byte IDX file (magic 0x" + Integer.toHexString(magic) + ")");
        }
        int[] dims = new int[rank];
        for (int i = 0; i < rank; i++) {
            dims[i] = headerInt(in, name);
            if (dims[i] < 0) throw new IOException(name + ": negative dimension " + dims[i] + " at index " + i);
        }
        // The item size is checked on its own too: dims (0, 65536, 65536) hold no elements but 2^32 per item.
        long itemSize, total;
        try {
            itemSize = 1;
            for (int i = 1; i < rank; i++) itemSize = Math.multiplyExact(itemSize, dims[i]);
            total = Math.multiplyExact(itemSize, dims[0]);
        } catch (ArithmeticException e) {
            throw new IOException(name + ": dims " + Arrays.toString(dims) + " hold more elements than a long can count");
        }
        if (total > MAX_ELEMENTS || itemSize > MAX_ELEMENTS) {
            throw new IOException(name + ": dims " + Arrays.toString(dims) + " hold " + Math.max(total, itemSize)
                    + " elements, more than a Java array can (" + MAX_ELEMENTS + ")");
        }
        long header = 4 + 4L * rank;
        if (streamSize >= 0 && streamSize - header < total) {
            throw new IOException(name + ": truncated: dims " + Arrays.toString(dims) + " need " + total
                    + " bytes of data, the file holds " + Math.max(0, streamSize - header) + " after its header");
        }
        // Allocated as the data arrives (doubling, from at most 1 MiB): a header claiming 2 GB in a tiny gzipped file
        // costs what the file holds, not 2 GB. Inflate through a small buffer too: handing a whole 47 MB array to
        // each inflate() call makes the JNI array pinning copy it every time under -Xcheck:jni (quadratic).
        byte[] data = new byte[(int) Math.min(total, streamSize >= 0 ? total : 1 << 20)];
        byte[] chunk = new byte[1 << 16];
        for (int filled = 0; filled < total; ) {
            int n = in.read(chunk, 0, (int) Math.min(chunk.length, total - filled));
            if (n < 0) {
                throw new IOException(name + ": truncated: dims " + Arrays.toString(dims) + " need " + total
                        + " bytes of data, got " + filled);
            }
            if (filled + n > data.length) data = Arrays.copyOf(data, (int) Math.min(total, Math.max(2L * data.length, filled + n)));
            System.arraycopy(chunk, 0, data, filled, n);
            filled += n;
        }
        return new UByteArray(dims, data);
    }

    private static int headerInt(DataInputStream in, String name) throws IOException {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw new IOException(name + ": truncated: the file ends inside its header", e);
        }
    }
}

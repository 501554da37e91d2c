package dev.kiln.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** Reader for the IDX format of (Fashion-)MNIST: unsigned-byte arrays with big-endian dimensions, gzipped or not. */
public final class Idx {
    /** An unsigned-byte array: {@code dims} and the values in row-major order. */
    public record UByteArray(int[] dims, byte[] data) {
        public int count() {
            return dims[0];
        }

        /** Elements per item (the product of every dimension but the first). */
        public int itemSize() {
            int n = 1;
            for (int i = 1; i < dims.length; i++) n *= dims[i];
            return n;
        }
    }

    private Idx() {
    }

    public static UByteArray read(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file)) {
            InputStream in = new BufferedInputStream(raw, 1 << 16);
            in.mark(2);
            boolean gzip = in.read() == 0x1f && in.read() == 0x8b;
            in.reset();
            return read(gzip ? new GZIPInputStream(in, 1 << 16) : in, file.toString());
        }
    }

    static UByteArray read(InputStream stream, String name) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        int magic = in.readInt();
        int type = (magic >>> 8) & 0xff, rank = magic & 0xff;
        if ((magic >>> 16) != 0 || type != 0x08 || rank < 1 || rank > 4) {
            throw new IOException(name + ": not an unsigned-byte IDX file (magic 0x" + Integer.toHexString(magic) + ")");
        }
        int[] dims = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = in.readInt();
            if (dims[i] < 0) throw new IOException(name + ": negative dimension " + dims[i]);
            total *= dims[i];
        }
        if (total > Integer.MAX_VALUE - 8) throw new IOException(name + ": " + total + " elements is too large");
        byte[] data = new byte[(int) total];
        // Inflate through a small buffer: handing the whole 47 MB array to each inflate() call makes the JNI
        // array pinning copy it every time under -Xcheck:jni (quadratic), and gains nothing otherwise.
        byte[] chunk = new byte[1 << 16];
        for (int filled = 0; filled < data.length; ) {
            int n = in.read(chunk, 0, Math.min(chunk.length, data.length - filled));
            if (n < 0) throw new IOException(name + ": truncated: expected " + total + " bytes of data, got " + filled);
            System.arraycopy(chunk, 0, data, filled, n);
            filled += n;
        }
        return new UByteArray(dims, data);
    }
}

package dev.kiln.io;

import dev.kiln.DType;

import java.util.Arrays;

/**
 * One tensor's entry in a safetensors header: element type, shape, and its byte range [begin, end) counted from the
 * start of the data section (the byte after the header).
 */
public record TensorInfo(DType dtype, int[] shape, long begin, long end) {
    /** Copies {@code shape}. */
    public TensorInfo {
        shape = shape.clone();
    }

    /** A copy: the record stays immutable. */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements (1 for a 0-dimensional tensor). */
    public long numel() {
        long n = 1;
        for (int d : shape) n *= d;  // bounded when the header is parsed
        return n;
    }

    /** Length of the tensor's data in bytes, {@code end - begin}. */
    public long byteLength() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && t.dtype == dtype && Arrays.equals(t.shape, shape) && t.begin == begin && t.end == end;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(shape) * 31 + Long.hashCode(begin) + dtype.hashCode();
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape) + " at [" + begin + ", " + end + ")";
    }
}

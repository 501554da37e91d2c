package dev.kiln;

/** Element types. fp32 is the storage and math baseline; reduced precisions arrive with the kernels that use them. */
public enum DType {
    /** 32-bit IEEE 754 floats: the default element type. */
    F32(4),
    /** 32-bit signed integers: class labels and argmax indices. */
    I32(4),
    /** bfloat16: the upper half of an fp32, for tensor-core attention; convert with {@code Ops.toBf16} / {@code Ops.toF32}. */
    BF16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    @Override
    public String toString() {
        return name().toLowerCase();
    }
}

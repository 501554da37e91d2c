package dev.kiln;

import dev.kiln.internal.ConvertNative;
import dev.kiln.internal.RuntimeNative;

/**
 * Java arrays to and from bf16 tensors: through an fp32 staging tensor on the tensor's device, converted by the C ABI
 * (widening is exact; narrowing rounds to nearest even). {@link Tensor}'s copy methods call these for bf16.
 */
final class HostTransfers {
    private HostTransfers() {
    }

    /** Elements [srcOffset, srcOffset + count) of bf16 tensor t, widened, into dst[dstOffset, dstOffset + count). */
    static void bf16To(Tensor t, long srcOffset, float[] dst, int dstOffset, int count) {
        checkArrayRange("copyTo", dst == null ? -1 : dst.length, dstOffset, count);
        try (Tensor wide = Scope.detached(() -> Tensor.empty(t.device(), DType.F32, count))) {
            ConvertNative.toF32(t, srcOffset, wide, 0, count);
            RuntimeNative.copyToArray(wide, dst, dstOffset, count);
        }
    }

    /** src[srcOffset, srcOffset + count), rounded to bf16, into elements [dstOffset, dstOffset + count) of t. */
    static void bf16From(Tensor t, float[] src, int srcOffset, long dstOffset, int count) {
        checkArrayRange("copyFrom", src == null ? -1 : src.length, srcOffset, count);
        if (dstOffset < 0 || dstOffset > t.numel() - count) {
            throw new IllegalArgumentException("copyFrom: elements [" + dstOffset + ", " + dstOffset + " + " + count
                    + ") are outside " + t);
        }
        try (Tensor wide = Scope.detached(() -> Tensor.empty(t.device(), DType.F32, count))) {
            RuntimeNative.copyFromArray(wide, src, srcOffset, count);
            ConvertNative.toBf16(wide, 0, t, dstOffset, count);
        }
    }

    /** {@code length} -1 stands for a null array; checked before any staging memory is taken. */
    private static void checkArrayRange(String op, int length, int offset, int count) {
        if (length < 0) throw new IllegalArgumentException(op + ": array is null");
        if (offset < 0 || count < 0 || offset > length - count) {
            throw new IllegalArgumentException(op + ": range [" + offset + ", " + offset + " + " + count
                    + ") is outside an array of length " + length);
        }
    }
}

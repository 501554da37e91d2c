package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Tensor;
import dev.kiln.internal.ConvertNative;

/**
 * Casts between fp32 and bf16, recorded on the tape: the gradient of a cast is the gradient cast back, so a bf16
 * tensor's gradient is bf16 and an fp32 tensor's is fp32.
 */
final class ConvertOps {
    private ConvertOps() {
    }

    /**
     * x (f32) rounded to bf16, to nearest even (NaN stays NaN; values past bf16's largest finite one become
     * infinities). Recorded: the gradient reaching the bf16 result is widened back to f32 for x.
     */
    @Op
    static Tensor toBf16(Tensor x) {
        return cast("toBf16", x, DType.F32, DType.BF16);
    }

    /** x (bf16) widened to f32, exactly. Recorded: the f32 gradient is rounded to bf16 for x. */
    @Op
    static Tensor toF32(Tensor x) {
        return cast("toF32", x, DType.BF16, DType.F32);
    }

    /**
     * x as {@code dtype}, f32 or bf16 (see {@link #toBf16} and {@link #toF32}): always a new tensor, recorded; the same
     * dtype gives a copy whose gradient passes through unchanged.
     */
    @Op
    static Tensor to(Tensor x, DType dtype) {
        String op = "to";
        Checks.open(op, "x", x);
        if (dtype == null) throw new IllegalArgumentException(op + ": dtype is null");
        if (!convertible(x.dtype()) || !convertible(dtype)) {
            throw new IllegalArgumentException(op + ": converts between f32 and bf16 only, got " + x + " to " + dtype);
        }
        if (x.dtype() != dtype) return dtype == DType.BF16 ? toBf16(x) : toF32(x);
        Tensor y = Tensor.empty(x.device(), dtype, x.shape());
        Ops.copy_(y, x);
        return Autograd.record(op, y, dy -> new Tensor[] {dy}, x);
    }

    private static boolean convertible(DType d) {
        return d == DType.F32 || d == DType.BF16;
    }

    private static Tensor cast(String op, Tensor x, DType from, DType to) {
        Checks.open(op, "x", x);
        if (x.dtype() != from) throw new IllegalArgumentException(op + ": 'x' must be " + from + ", got " + x);
        Tensor y = convert(x, to);
        return Autograd.record(op, y, dy -> new Tensor[] {convert(dy, from)}, x);
    }

    /** A new tensor of x's shape on x's device holding x converted to {@code to}; not recorded. */
    private static Tensor convert(Tensor x, DType to) {
        Tensor y = Tensor.empty(x.device(), to, x.shape());
        if (to == DType.BF16) ConvertNative.toBf16(x, y);
        else ConvertNative.toF32(x, y);
        return y;
    }
}

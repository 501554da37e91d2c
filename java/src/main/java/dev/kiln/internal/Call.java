package dev.kiln.internal;

import dev.kiln.DType;
import dev.kiln.Tensor;

import java.lang.ref.Reference;

/**
 * The tensor arguments of one native call. Each is checked before anything crosses JNI: present (unless optional),
 * open, on the call's device (that of the first tensor), of the dtype the entry reads and holding at least the
 * elements the entry touches; its address is read then, at call time. {@link #fence()} after the native call keeps
 * every tensor reachable until it has returned, so the Cleaner cannot free one mid-call. Shape rules are not checked
 * here: they live in the C ABI's validation and the ops' checks. Only memory safety is.
 */
final class Call {
    private static final TensorAccess TENSORS = TensorAccess.get();
    private static final int MAX_TENSORS = 16;

    private final String op;
    private final Tensor[] held = new Tensor[MAX_TENSORS];
    private int count;
    private Tensor anchor;  // the first device-side argument: its device is the call's

    /** {@code op} names the entry in messages: "batch_norm backward". */
    Call(String op) {
        this.op = op;
    }

    long f32(String arg, Tensor t, long elements) {
        return arg(arg, t, DType.F32, elements);
    }

    long i32(String arg, Tensor t, long elements) {
        return arg(arg, t, DType.I32, elements);
    }

    /** 0 (NULL to the C ABI) when {@code t} is null. */
    long optionalF32(String arg, Tensor t, long elements) {
        return t == null ? 0 : f32(arg, t, elements);
    }

    /** A bf16 operand ({@code kiln_bf16*} in the C ABI). */
    long bf16(String arg, Tensor t, long elements) {
        return arg(arg, t, DType.BF16, elements);
    }

    /** 0 (NULL to the C ABI) when {@code t} is null. */
    long optionalBf16(String arg, Tensor t, long elements) {
        return t == null ? 0 : bf16(arg, t, elements);
    }

    /** A tensor in host memory (a CPU tensor) on the other side of a copy; it does not set the call's device. */
    long host(String arg, Tensor t, DType dtype, long elements) {
        checkOpen(arg, t);
        if (!t.device().isCpu()) throw new IllegalArgumentException(op + ": argument '" + arg + "' must be on the cpu, got " + t);
        return checkedAddress(arg, t, dtype, elements);
    }

    /** The context of the call's device. */
    long context() {
        if (anchor == null) throw new IllegalStateException(op + ": no tensor argument names the device");
        return TENSORS.context(anchor);
    }

    /** Call right after the native call returns. */
    void fence() {
        Reference.reachabilityFence(held);
    }

    /** A device-side tensor of {@code dtype}; the first one sets the call's device. */
    long arg(String arg, Tensor t, DType dtype, long elements) {
        checkOpen(arg, t);
        if (anchor == null) {
            anchor = t;
        } else if (!anchor.device().equals(t.device())) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' is on " + t.device() + " but the call runs on "
                    + anchor.device());
        }
        return checkedAddress(arg, t, dtype, elements);
    }

    private void checkOpen(String arg, Tensor t) {
        if (t == null) throw new IllegalArgumentException(op + ": argument '" + arg + "' is null");
        if (t.isClosed()) throw new IllegalStateException(op + ": argument '" + arg + "' is closed");
    }

    private long checkedAddress(String arg, Tensor t, DType dtype, long elements) {
        if (t.dtype() != dtype) throw new IllegalArgumentException(op + ": argument '" + arg + "' must be " + dtype + ", got " + t);
        if (elements < 0) throw new IllegalArgumentException(op + ": argument '" + arg + "' would span " + elements + " elements");
        if (t.numel() < elements) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' holds " + t.numel() + " elements but the call touches "
                    + elements + " (" + t + ")");
        }
        if (count == MAX_TENSORS) throw new IllegalStateException(op + ": more than " + MAX_TENSORS + " tensor arguments");
        held[count++] = t;
        return TENSORS.address(t);
    }
}

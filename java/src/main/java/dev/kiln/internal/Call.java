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
 *
 * <p>Every op crosses JNI here, so this is also where a profiler listens ({@link OpHooks}): while one records, the
 * call notes its start, its arguments' shapes and, from {@link #fence()}, its end and what the library says ran.
 */
final class Call {
    private static final TensorAccess TENSORS = TensorAccess.get();
    private static final int MAX_TENSORS = 16;

    private final String op;
    private final Tensor[] held = new Tensor[MAX_TENSORS];
    private int count;
    private Tensor anchor;  // the first device-side argument: its device is the call's
    private long bytes;     // bytes the arguments span: the op's memory traffic, for a profiler's GB/s
    private long flops;     // set by bindings whose arithmetic is known (GEMM, convolution, LSTM, attention)

    private final OpHooks.Sink profiler;  // null unless a profiler records
    private String[] argNames;            // only while profiling
    private final long startNanos;

    /** {@code op} names the entry in messages: "batch_norm backward". */
    Call(String op) {
        this.op = op;
        this.profiler = OpHooks.active();
        this.startNanos = profiler == null ? 0 : System.nanoTime();
    }

    /** The op's floating-point operations (multiply and add counted apart), for a profiler's GFLOP/s. */
    void flops(long flops) {
        this.flops = flops;
    }

    long f32(String arg, Tensor t, long elements) {
        return arg(arg, t, DType.F32, elements);
    }

    /** An f32 operand the entry reads and then writes back (a parameter, an optimizer moment): its bytes count twice. */
    long f32Updated(String arg, Tensor t, long elements) {
        long address = f32(arg, t, elements);
        bytes += elements * DType.F32.bytes();
        return address;
    }

    /** An f32 operand the entry touches whole (a fill, a random draw). */
    long f32Whole(String arg, Tensor t) {
        checkOpen(arg, t);
        return f32(arg, t, t.numel());
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
        if (profiler != null) profiler.beforeOp(anchor.device());
        return TENSORS.context(anchor);
    }

    /** Call right after the native call returns. */
    void fence() {
        Reference.reachabilityFence(held);
        if (profiler != null) report();
    }

    private void report() {
        long end = System.nanoTime();
        String[] ran = new String[2];
        boolean deviceTimed = ProfilerNative.lastOp(ran);
        StringBuilder args = new StringBuilder();
        for (int i = 0; i < count; i++) {
            if (i > 0) args.append(' ');
            args.append(argNames[i]).append(java.util.Arrays.toString(held[i].shape()).replace(" ", ""));
        }
        Tensor first = anchor != null ? anchor : count > 0 ? held[0] : null;
        profiler.op(op, ran[0], ran[1], deviceTimed, first == null ? null : first.device(), args.toString(),
                startNanos, end, flops, bytes);
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
        if (profiler != null) {
            if (argNames == null) argNames = new String[MAX_TENSORS];
            argNames[count] = arg;
        }
        bytes += elements * dtype.bytes();
        held[count++] = t;
        return TENSORS.address(t);
    }
}

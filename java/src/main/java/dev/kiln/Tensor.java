package dev.kiln;

import dev.kiln.internal.ConvertNative;
import dev.kiln.internal.RuntimeNative;
import dev.kiln.internal.TensorAccess;
import dev.kiln.ops.Ops;

import java.lang.ref.Cleaner;
import java.util.Arrays;

/**
 * A dense, row-major, contiguous n-dimensional array in native memory on one {@link Device}.
 *
 * <p>Tensors own native memory: close them, or create them inside a {@link Scope} that does. A {@link Cleaner}
 * frees a forgotten tensor after the garbage collector finds it, but only as a safety net: GC timing knows nothing
 * of GPU memory. Using a closed tensor throws {@link IllegalStateException}. {@link #view} and {@link #reshape}
 * share memory with their source; the memory is freed when the last of them is closed. A tensor made by
 * {@code dev.kiln.interop} over someone else's memory (a direct buffer, a JCuda pointer) is the exception: closing it
 * ends Kiln's use and frees nothing.
 *
 * <p>The fluent methods ({@link #matmul}, {@link #add}, {@link #relu}, {@link #sum()}, ...) are the ops of
 * {@link Ops}: they allocate in the current {@link Scope} and record on the autograd tape.
 *
 * <p><b>bf16.</b> A {@link DType#BF16} tensor is storage for the ops that take it (attention) and for checkpoints:
 * {@link #to(DType)} converts in either direction, the float array methods ({@link #toFloatArray()},
 * {@link #copyFrom(float[], int)}, ...) widen or round on the way (exactly as {@link Ops#toF32} and {@link Ops#toBf16}
 * do), and the {@code short[]} methods move the raw bf16 bits. The fp32 ops refuse bf16 operands.
 *
 * <p><b>Threads.</b> Any number of threads may read a tensor at once (use it as an op input, copy it out) while no
 * thread writes it. Nothing locks a tensor: a write (the in-place ops such as {@link Ops#fill_}, {@link Ops#copy_},
 * {@link Ops#axpy_}, an optimizer step, {@link #copyFrom}, a backward accumulating into {@link #grad()}) must not
 * overlap another write or a read of the same tensor. {@link #close()} may be called from any thread and is
 * idempotent, but never while another thread may still use the tensor: its memory is returned at once. A tensor made
 * inside a {@link Scope} belongs to the thread that opened the scope and is freed when that scope closes; hand it to
 * another thread only after {@link Scope#keep}. The autograd graph is per thread: a tensor computed on one thread is
 * not tracked on another (see {@link dev.kiln.ops.Autograd}).
 */
public final class Tensor implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    static {
        TensorAccess.install(new TensorInternals());
    }

    final Storage storage;
    private final int[] shape;
    private final long numel;
    private final DType dtype;
    private final Cleaner.Cleanable cleanable;
    private volatile boolean closed;
    private Scope owner;
    private boolean requiresGrad;
    Tensor grad;
    // zeroGrad() was called and no gradient has arrived since: the buffer holds stale values that the next backward
    // overwrites (one copy, not a fill plus an add: 18% of a small MLP's step went to the two). grad() zeroes it
    // first if anyone asks before then, so the buffer always reads as the documented zeros.
    boolean gradZeroPending;
    // What dev.kiln.ops.Autograd knows of this tensor: the node that produced it while its graph lives (the tensor holds
    // its graph, the tape only weakly), then the reason the graph was released (a String, for backward to name), or null.
    Object autograd;

    Tensor(Storage storage, int[] shape, long numel, DType dtype) {
        this.storage = storage;
        this.shape = shape;
        this.numel = numel;
        this.dtype = dtype;
        this.cleanable = CLEANER.register(this, storage::release);  // must not capture `this`
        Scope scope = Scope.current();
        if (scope != null) scope.adopt(this);
    }

    // ---- creation ---------------------------------------------------------------------------------------------

    /** An uninitialized fp32 tensor: its contents are whatever the memory held. */
    public static Tensor empty(Device device, int... shape) {
        return empty(device, DType.F32, shape);
    }

    /** An uninitialized tensor of {@code dtype}. */
    public static Tensor empty(Device device, DType dtype, int... shape) {
        int[] s = Shapes.checked("empty", shape);
        long n = Shapes.numel("empty", s);
        return new Tensor(new Storage(device, n * dtype.bytes()), s, n, dtype);
    }

    /** An fp32 CPU tensor of zeros. */
    public static Tensor zeros(int... shape) {
        return full(Device.cpu(), 0f, shape);
    }

    /** An fp32 tensor of zeros on {@code device}. */
    public static Tensor zeros(Device device, int... shape) {
        return full(device, 0f, shape);
    }

    /** An fp32 CPU tensor of ones. */
    public static Tensor ones(int... shape) {
        return full(Device.cpu(), 1f, shape);
    }

    /** An fp32 tensor of ones on {@code device}. */
    public static Tensor ones(Device device, int... shape) {
        return full(device, 1f, shape);
    }

    /** An fp32 tensor on {@code device} with every element {@code value}; no shape gives a 0-dimensional tensor. */
    public static Tensor full(Device device, float value, int... shape) {
        return Ops.fill_(empty(device, shape), value);
    }

    /** A CPU tensor holding a copy of {@code data}, which must have exactly as many elements as {@code shape}. */
    public static Tensor of(float[] data, int... shape) {
        return of(Device.cpu(), data, shape);
    }

    /**
     * As {@link #of(float[], int...)} on {@code device}. With no shape, {@code data} becomes a 1-dimensional tensor
     * (0-dimensional when it holds one value); a shape that does not match throws IllegalArgumentException.
     */
    public static Tensor of(Device device, float[] data, int... shape) {
        if (data == null) throw new IllegalArgumentException("Tensor.of: data is null");
        int[] s = shape.length == 0 && data.length != 1 ? new int[] {data.length} : shape;
        int[] checked = Shapes.checked("Tensor.of", s);
        if (Shapes.numel("Tensor.of", checked) != data.length) {
            throw new IllegalArgumentException("Tensor.of: shape " + Shapes.toString(checked) + " holds "
                    + Shapes.numel("Tensor.of", checked) + " elements but data has " + data.length);
        }
        Tensor t = empty(device, checked);
        RuntimeNative.copyFromArray(t, data, 0, data.length);
        return t;
    }

    /** An int32 tensor holding a copy of {@code data} (class labels, indices). */
    public static Tensor ofInts(Device device, int[] data, int... shape) {
        if (data == null) throw new IllegalArgumentException("Tensor.ofInts: data is null");
        int[] checked = Shapes.checked("Tensor.ofInts", shape.length == 0 ? new int[] {data.length} : shape);
        if (Shapes.numel("Tensor.ofInts", checked) != data.length) {
            throw new IllegalArgumentException("Tensor.ofInts: shape " + Shapes.toString(checked) + " holds "
                    + Shapes.numel("Tensor.ofInts", checked) + " elements but data has " + data.length);
        }
        Tensor t = empty(device, DType.I32, checked);
        RuntimeNative.copyFromIntArray(t, data, 0, data.length);
        return t;
    }

    /** A 0-dimensional tensor holding {@code value}. */
    public static Tensor scalar(Device device, float value) {
        return full(device, value);
    }

    /** Uniform in [0, 1) on the CPU from the default generator. */
    public static Tensor rand(int... shape) {
        return rand(Kiln.defaultGenerator(), Device.cpu(), shape);
    }

    /** Uniform in [0, 1) on {@code device} from the default generator. */
    public static Tensor rand(Device device, int... shape) {
        return rand(Kiln.defaultGenerator(), device, shape);
    }

    /** Uniform in [0, 1): the same generator state gives bit-identical tensors on every device. */
    public static Tensor rand(Generator generator, Device device, int... shape) {
        return uniform(generator, device, 0f, 1f, shape);
    }

    /** Uniform in [lo, hi). */
    public static Tensor uniform(Generator generator, Device device, float lo, float hi, int... shape) {
        return Ops.uniform_(empty(device, shape), generator, lo, hi);
    }

    /** Standard normal on the CPU from the default generator. */
    public static Tensor randn(int... shape) {
        return randn(Kiln.defaultGenerator(), Device.cpu(), shape);
    }

    /** Standard normal on {@code device} from the default generator. */
    public static Tensor randn(Device device, int... shape) {
        return randn(Kiln.defaultGenerator(), device, shape);
    }

    /** Standard normal: the same generator state gives bit-identical tensors on every device. */
    public static Tensor randn(Generator generator, Device device, int... shape) {
        return normal(generator, device, 0f, 1f, shape);
    }

    /** Normal with the given mean and standard deviation. */
    public static Tensor normal(Generator generator, Device device, float mean, float std, int... shape) {
        return Ops.normal_(empty(device, shape), generator, mean, std);
    }

    // ---- facts ------------------------------------------------------------------------------------------------

    /** A copy of the shape. */
    public int[] shape() {
        ensureOpen();
        return shape.clone();
    }

    /** Size of dimension {@code i}; negative {@code i} counts from the end. */
    public int dim(int i) {
        ensureOpen();
        int k = i < 0 ? shape.length + i : i;
        if (k < 0 || k >= shape.length) {
            throw new IllegalArgumentException("dim(" + i + ") is out of range for shape " + Shapes.toString(shape));
        }
        return shape[k];
    }

    /** Number of dimensions (0 for a scalar). */
    public int rank() {
        return shape.length;
    }

    /** Number of elements. */
    public long numel() {
        return numel;
    }

    /** The element type. */
    public DType dtype() {
        return dtype;
    }

    /** The device this tensor's memory lives on. */
    public Device device() {
        return storage.device;
    }

    /** Whether this tensor has been closed (by {@link #close()} or by the scope that owned it). */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Address of the first element in the device's memory space. Not public: Java keeps no raw address across calls,
     * and only the binding reads one (through {@link TensorAccess}), at call time.
     */
    long address() {
        ensureOpen();
        return storage.address;
    }

    // ---- data movement ----------------------------------------------------------------------------------------

    /**
     * Copies the contents of an fp32 tensor to a new Java array (waits for pending ops on the device); a bf16 tensor's
     * elements are widened to fp32, exactly.
     */
    public float[] toFloatArray() {
        ensureOpen();
        if (dtype != DType.BF16) requireDType("toFloatArray", DType.F32);
        if (numel > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("toFloatArray: " + this + " has " + numel + " elements, more than a Java array holds");
        }
        float[] out = new float[(int) numel];
        if (dtype == DType.BF16) HostTransfers.bf16To(this, 0, out, 0, out.length);
        else RuntimeNative.copyToArray(this, out, 0, out.length);
        return out;
    }

    /** Copies the contents of an int32 tensor to a new Java array. */
    public int[] toIntArray() {
        ensureOpen();
        requireDType("toIntArray", DType.I32);
        if (numel > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("toIntArray: " + this + " has " + numel + " elements, more than a Java array holds");
        }
        int[] out = new int[(int) numel];
        RuntimeNative.copyToIntArray(this, out, 0, out.length);
        return out;
    }

    /**
     * Overwrites this fp32 tensor with {@code src[offset, offset + numel())} (a batch staged in a reused array); a bf16
     * tensor receives the values rounded to nearest even.
     */
    public void copyFrom(float[] src, int offset) {
        ensureOpen();
        if (numel > Integer.MAX_VALUE) throw new IllegalArgumentException("copyFrom: " + this + " is larger than a Java array");
        storage.writing(() -> {
            if (dtype == DType.BF16) HostTransfers.bf16From(this, src, offset, 0, (int) numel);
            else RuntimeNative.copyFromArray(this, src, offset, (int) numel);
        });
    }

    /**
     * Overwrites elements [dstOffset, dstOffset + count) of this fp32 tensor with {@code src[srcOffset, srcOffset +
     * count)}: fills a tensor too large for one Java array through a bounded buffer. A bf16 tensor receives the values
     * rounded to nearest even.
     */
    public void copyFrom(float[] src, int srcOffset, long dstOffset, int count) {
        ensureOpen();
        storage.writing(() -> {
            if (dtype == DType.BF16) HostTransfers.bf16From(this, src, srcOffset, dstOffset, count);
            else RuntimeNative.copyFromArray(this, dstOffset, src, srcOffset, count);
        });
    }

    /**
     * Copies elements [srcOffset, srcOffset + count) of this fp32 tensor to {@code dst[dstOffset, dstOffset + count)};
     * a bf16 tensor's elements are widened to fp32, exactly.
     */
    public void copyTo(long srcOffset, float[] dst, int dstOffset, int count) {
        ensureOpen();
        if (dtype == DType.BF16) HostTransfers.bf16To(this, srcOffset, dst, dstOffset, count);
        else RuntimeNative.copyToArray(this, srcOffset, dst, dstOffset, count);
    }

    /**
     * Overwrites elements [dstOffset, dstOffset + count) of this bf16 tensor with the bit patterns
     * {@code src[srcOffset, srcOffset + count)}, unchanged (each short is the upper half of an fp32).
     */
    public void copyFrom(short[] src, int srcOffset, long dstOffset, int count) {
        ensureOpen();
        storage.writing(() -> ConvertNative.copyFromShortArray(this, dstOffset, src, srcOffset, count));
    }

    /** Copies the bit patterns of elements [srcOffset, srcOffset + count) of this bf16 tensor to {@code dst}. */
    public void copyTo(long srcOffset, short[] dst, int dstOffset, int count) {
        ensureOpen();
        ConvertNative.copyToShortArray(this, srcOffset, dst, dstOffset, count);
    }

    /** The int32 twin of {@link #copyFrom(float[], int, long, int)}. */
    public void copyFrom(int[] src, int srcOffset, long dstOffset, int count) {
        ensureOpen();
        storage.writing(() -> RuntimeNative.copyFromIntArray(this, dstOffset, src, srcOffset, count));
    }

    /** The int32 twin of {@link #copyTo(long, float[], int, int)}. */
    public void copyTo(long srcOffset, int[] dst, int dstOffset, int count) {
        ensureOpen();
        RuntimeNative.copyToIntArray(this, srcOffset, dst, dstOffset, count);
    }

    /** Throws IllegalArgumentException unless this tensor has {@code expected} element type. */
    public void requireDType(String op, DType expected) {
        if (dtype != expected) throw new IllegalArgumentException(op + ": needs a " + expected + " tensor, got " + this);
    }

    /** The single value of a one-element tensor. */
    public float item() {
        ensureOpen();
        if (numel != 1) throw new IllegalStateException("item() needs exactly one element, " + this + " has " + numel);
        return toFloatArray()[0];
    }

    /**
     * A copy on {@code target} (a copy even when it is already there). Recorded like any op: the gradient of the copy
     * goes back to this tensor, on its own device.
     */
    public Tensor to(Device target) {
        return Ops.toDevice(this, target);
    }

    /** A copy on the same device (recorded, as {@link #to(Device)}). */
    public Tensor copy() {
        return to(device());
    }

    /** This tensor as {@code dtype} (f32 or bf16), always a new tensor: see {@link Ops#to(Tensor, DType)}. */
    public Tensor to(DType target) {
        return Ops.to(this, target);
    }

    /**
     * The same memory seen with another shape of equal element count; one dimension may be -1 (inferred). Closing
     * the view does not free the memory while the source (or another view) is open. Gradients flow back through it.
     */
    public Tensor view(int... newShape) {
        return Ops.view(this, newShape);
    }

    /** Same as {@link #view}: Kiln tensors are always contiguous, so a reshape never copies. */
    public Tensor reshape(int... newShape) {
        return Ops.reshape(this, newShape);
    }

    /** The same memory, cut from the autograd graph (see {@link Ops#detach}). */
    public Tensor detach() {
        return Ops.detach(this);
    }

    /** (N, ...) to (N, rest). */
    public Tensor flatten() {
        return Ops.flatten(this);
    }

    // ---- ops (recorded on the autograd tape; see dev.kiln.ops.Ops) ------------------------------------------------

    /** A new tensor with two axes exchanged (a copy: Kiln tensors are dense); see {@link Ops#transpose}. */
    public Tensor transpose(int axis0, int axis1) {
        return Ops.transpose(this, axis0, axis1);
    }

    /** Matrix product, this x other: see {@link Ops#matmul(Tensor, Tensor)} for the shapes it takes. */
    public Tensor matmul(Tensor other) {
        return Ops.matmul(this, other);
    }

    /** this + other elementwise; one operand may broadcast (see {@link Ops}). */
    public Tensor add(Tensor other) {
        return Ops.add(this, other);
    }

    /** this - other elementwise, broadcasting as {@link #add}. */
    public Tensor sub(Tensor other) {
        return Ops.sub(this, other);
    }

    /** this * other elementwise, broadcasting as {@link #add}. */
    public Tensor mul(Tensor other) {
        return Ops.mul(this, other);
    }

    /** this / other elementwise, broadcasting as {@link #add}. */
    public Tensor div(Tensor other) {
        return Ops.div(this, other);
    }

    /** -this, elementwise. */
    public Tensor neg() {
        return Ops.neg(this);
    }

    /** max(this, 0), elementwise. */
    public Tensor relu() {
        return Ops.relu(this);
    }

    /** The logistic function 1 / (1 + exp(-this)), elementwise. */
    public Tensor sigmoid() {
        return Ops.sigmoid(this);
    }

    /** Hyperbolic tangent, elementwise. */
    public Tensor tanh() {
        return Ops.tanh(this);
    }

    /** Sum of all elements, 0-dimensional. */
    public Tensor sum() {
        return Ops.sum(this);
    }

    /** Sum over {@code axis}, which is removed. */
    public Tensor sum(int axis) {
        return Ops.sum(this, axis);
    }

    /** Mean of all elements, 0-dimensional. */
    public Tensor mean() {
        return Ops.mean(this);
    }

    /** Mean over {@code axis}, which is removed. */
    public Tensor mean(int axis) {
        return Ops.mean(this, axis);
    }

    /** Softmax over the last dimension. */
    public Tensor softmax() {
        return Ops.softmax(this);
    }

    /** Log of the softmax over the last dimension, computed stably. */
    public Tensor logSoftmax() {
        return Ops.logSoftmax(this);
    }

    // ---- autograd (the engine lives in dev.kiln.ops) --------------------------------------------------------------

    /** Marks this tensor as a leaf whose gradient {@link #backward()} accumulates into {@link #grad()}; returns it. */
    public Tensor requiresGrad() {
        return requiresGrad(true);
    }

    /**
     * Sets whether this tensor is a leaf that collects gradients; returns it. Only f32 tensors can, and the output of a
     * recorded op cannot become one (use {@code detach().requiresGrad()}): both throw.
     */
    public Tensor requiresGrad(boolean value) {
        ensureOpen();
        if (value && dtype != DType.F32) throw new IllegalArgumentException("requiresGrad: only f32 tensors have gradients, got " + this);
        if (value && !requiresGrad && autograd != null && !(autograd instanceof String)) {
            // Made a leaf, it would collect its gradient and stop it there: what it was computed from would get none.
            throw new IllegalStateException("requiresGrad: " + this + " is the output of a recorded op, so gradients"
                    + " already flow through it to what it was computed from; detach().requiresGrad() makes a new leaf");
        }
        this.requiresGrad = value;
        return this;
    }

    /** Whether this is a leaf that collects gradients. */
    public boolean isRequiresGrad() {
        return requiresGrad;
    }

    /** The accumulated gradient of a leaf (same shape and device), or null before the first backward. */
    public Tensor grad() {
        if (gradZeroPending) {
            gradZeroPending = false;
            Ops.fill_(grad, 0f);
        }
        return grad;
    }

    /**
     * Replaces the gradient buffer (the engine and optimizers use this) with {@code g}: open, f32, and of this
     * tensor's shape and device, or null. The tensor takes ownership of {@code g}: g leaves the scope that owned it,
     * if any, and is closed with this tensor.
     */
    public void setGrad(Tensor g) {
        ensureOpen();
        if (g != null) {
            if (g == this || g.isClosed() || g.dtype != DType.F32 || !Arrays.equals(g.shape, shape)
                    || !g.device().equals(device())) {
                throw new IllegalArgumentException("setGrad: gradient " + g + " does not fit " + this
                        + " (needs an open f32 tensor of its shape and device, not itself)");
            }
            Scope s;
            synchronized (g) {
                s = g.owner;
                g.owner = null;
            }
            if (s != null) s.forget(g);
        }
        if (grad != null && grad != g) grad.close();
        grad = g;
        gradZeroPending = false;
    }

    /**
     * Zeroes the gradient (keeps the buffer, so memory stays flat across steps). Lazily: the next backward writes
     * its gradient over the buffer instead of adding to zeros, and {@link #grad()} fills it with zeros if it is read
     * before then.
     */
    public void zeroGrad() {
        if (grad != null) gradZeroPending = true;
    }

    /**
     * Backpropagates from this one-element tensor (usually a loss) through the ops recorded on this thread's tape,
     * accumulating into the gradients of every leaf that requires them, then releases the tape.
     */
    public void backward() {
        dev.kiln.ops.Autograd.backward(this);
    }

    // ---- lifetime ---------------------------------------------------------------------------------------------

    /** Frees this tensor's hold on its memory; idempotent. */
    @Override
    public void close() {
        Scope s;
        synchronized (this) {
            if (closed) return;
            closed = true;
            s = owner;
            owner = null;
        }
        if (s != null) s.forget(this);
        cleanable.clean();
        Tensor g = grad;
        grad = null;
        gradZeroPending = false;
        if (g != null) g.close();
    }

    /** Called by a closing scope, which has already dropped the tensor from its set. */
    void releaseFromScope() {
        synchronized (this) {
            owner = null;
        }
        close();
    }

    synchronized void setOwner(Scope scope) {
        this.owner = scope;
    }

    /** A tensor sharing this one's memory with another shape; records nothing (Ops.view and Ops.reshape do). */
    Tensor alias(String op, int[] newShape) {
        ensureOpen();
        int[] s = Shapes.infer(op, newShape, numel, this);
        storage.retain();
        return new Tensor(storage, s, numel, dtype);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed: it was freed by close() or by the Scope that owned it");
        }
    }

    @Override
    public String toString() {
        return "Tensor" + Shapes.toString(shape) + " " + dtype + " on " + storage.device + (closed ? " (closed)" : "");
    }
}

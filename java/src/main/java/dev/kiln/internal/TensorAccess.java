package dev.kiln.internal;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Tensor;

/**
 * What the binding and the op layer need from a {@link Tensor} that is not public API: its address, its device's
 * context, and a view that records nothing. {@code Tensor} installs the one implementation in its static initializer
 * (the JDK's SharedSecrets pattern), so no address is reachable from {@code dev.kiln}'s public surface. Not public API.
 */
public abstract class TensorAccess {
    private static volatile TensorAccess installed;

    /** Called once, by Tensor's static initializer. */
    public static void install(TensorAccess access) {
        if (installed != null) throw new IllegalStateException("TensorAccess is already installed");
        installed = access;
    }

    public static TensorAccess get() {
        TensorAccess access = installed;
        if (access != null) return access;
        try {  // Tensor not initialized yet: initializing it installs the accessor
            Class.forName("dev.kiln.Tensor", true, TensorAccess.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("dev.kiln.Tensor is missing", e);
        }
        return installed;
    }

    /** Address of the first element of an open tensor (IllegalStateException when closed). */
    public abstract long address(Tensor t);

    /** The native context of the tensor's device. */
    public abstract long context(Tensor t);

    /** A tensor sharing {@code t}'s memory with another shape (one dimension may be -1); nothing is recorded. */
    public abstract Tensor alias(Tensor t, String op, int[] shape);

    /** How many in-place writes {@code t}'s memory has had (shared with its views): autograd's staleness check. */
    public abstract int version(Tensor t);

    /** Counts an in-place write into {@code t}'s memory (every op ending in _ calls it before writing). */
    public abstract void bumpVersion(Tensor t);

    /** Autograd's state of {@code t}: the node that produced it, the reason its graph was released, or null. */
    public abstract Object autograd(Tensor t);

    public abstract void setAutograd(Tensor t, Object state);

    /**
     * The gradient buffer of {@code t} if {@link Tensor#zeroGrad()} left it to be overwritten rather than added to
     * (and from now on it is not), else null. Autograd's first gradient into a leaf after zeroGrad is then one copy.
     */
    public abstract Tensor gradToOverwrite(Tensor t);

    /**
     * A tensor over memory Kiln does not own ({@code bytes} at {@code address} on {@code device}): closing it frees
     * nothing, and {@code keepAlive} (may be null) stays reachable while it or a view of it is open. The shape must fit
     * in {@code bytes}; the address is the caller's word (dev.kiln.interop checks what it can).
     */
    public abstract Tensor wrapExternal(Device device, DType dtype, int[] shape, long address, long bytes, Object keepAlive);
}

package dev.kiln;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Owns the tensors created inside it on this thread and closes them when it closes, except those passed to
 * {@link #keep}. Scopes nest: a kept tensor moves to the enclosing scope, or to the caller when there is none.
 *
 * <pre>{@code
 * try (Scope step = Scope.open()) {
 *     Tensor loss = model.loss(x, y);   // every intermediate belongs to `step`
 *     total = step.keep(loss.sum());    // survives the scope
 * }                                     // everything else is freed here
 * }</pre>
 *
 * <p><b>Threads.</b> A scope is confined to the thread that opened it: {@link #current()} is per thread, tensors
 * join the current scope of the thread that creates them, and {@link #close()} must run on the opening thread
 * (another thread gets an {@link IllegalStateException}). Threads therefore never share a scope; each training or
 * inference thread opens its own per step. {@link #keep} is how a result leaves the scope (and so may be handed to
 * another thread, which then owns it).
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

    private final Scope parent;
    private final Thread thread;
    private final Set<Tensor> owned = new LinkedHashSet<>();
    private final List<Runnable> closeHooks = new ArrayList<>();
    private boolean closed;

    private Scope(Scope parent) {
        this.parent = parent;
        this.thread = Thread.currentThread();
    }

    /** Opens a scope on this thread, nested in the current one if any. */
    public static Scope open() {
        Scope s = new Scope(CURRENT.get());
        CURRENT.set(s);
        return s;
    }

    /** The innermost open scope of this thread, or null. */
    public static Scope current() {
        return CURRENT.get();
    }

    /**
     * Runs {@code body} as if no scope were open: tensors it creates belong to the caller (model parameters,
     * optimizer state, gradient buffers created in the middle of a training step).
     */
    public static <T> T detached(java.util.function.Supplier<T> body) {
        Scope saved = CURRENT.get();
        CURRENT.set(null);
        try {
            return body.get();
        } finally {
            CURRENT.set(saved);
        }
    }

    /** Runs {@code hook} when this scope closes, after its tensors are freed (the autograd tape uses this). */
    public synchronized void onClose(Runnable hook) {
        if (closed) throw new IllegalStateException("onClose() on a closed scope");
        closeHooks.add(hook);
    }

    /** Takes {@code t} out of this scope: it moves to the enclosing scope, or becomes the caller's to close. */
    public synchronized Tensor keep(Tensor t) {
        if (closed) throw new IllegalStateException("keep() on a closed scope");
        if (!owned.remove(t)) {
            throw new IllegalArgumentException("keep(): " + t + " does not belong to this scope");
        }
        t.setOwner(null);
        if (parent != null) parent.adopt(t);
        return t;
    }

    /** Number of open tensors this scope would close now. */
    public synchronized int size() {
        return owned.size();
    }

    /** Takes every tensor this scope owns out of it, for the caller to close (CudaGraph keeps a capture's tensors). */
    synchronized List<Tensor> takeAll() {
        if (closed) throw new IllegalStateException("takeAll() on a closed scope");
        List<Tensor> taken = new ArrayList<>(owned);
        owned.clear();
        for (Tensor t : taken) t.setOwner(null);
        return taken;
    }

    /** True if {@code outer} encloses this scope. */
    boolean isWithin(Scope outer) {
        for (Scope s = parent; s != null; s = s.parent) if (s == outer) return true;
        return false;
    }

    synchronized void adopt(Tensor t) {
        if (closed) throw new IllegalStateException("cannot create a tensor in a closed scope");
        owned.add(t);
        t.setOwner(this);
    }

    synchronized void forget(Tensor t) {
        owned.remove(t);
    }

    /** Closes every tensor still owned, newest first, and makes the enclosing scope current again. */
    @Override
    public void close() {
        List<Tensor> toClose;
        synchronized (this) {
            if (closed) return;
            if (Thread.currentThread() != thread) {
                throw new IllegalStateException("a Scope must be closed on the thread that opened it (" + thread.getName() + ")");
            }
            if (CURRENT.get() != this) {
                throw new IllegalStateException("scopes must be closed innermost first: an inner scope is still open");
            }
            closed = true;
            toClose = new ArrayList<>(owned);
            owned.clear();
        }
        CURRENT.set(parent);
        for (int i = toClose.size() - 1; i >= 0; i--) toClose.get(i).releaseFromScope();
        for (Runnable hook : closeHooks) hook.run();
        closeHooks.clear();
    }
}

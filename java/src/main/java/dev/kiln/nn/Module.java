package dev.kiln.nn;

import dev.kiln.Scope;
import dev.kiln.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A layer or a model: owns parameters (leaf tensors that require grad), buffers (state that is saved but not
 * trained, such as batch norm's running statistics) and child modules, and has a train/eval mode. Parameters and
 * buffers live outside any {@link Scope} and are freed by {@link #close()}.
 *
 * <p>A module's forward is not fixed here, so modules take and return what they need: {@link Layer} is the common
 * one-tensor-in, one-tensor-out case; {@link Lstm} takes an input and initial states and returns an
 * {@link dev.kiln.ops.LstmOutput}; an encoder may return a record of several tensors.
 */
public abstract class Module implements AutoCloseable {
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** Creates a parameter with {@code init} (outside the current scope), marks it as requiring grad, registers it. */
    protected final Tensor registerParameter(String name, Supplier<Tensor> init) {
        checkNewName(name);
        Tensor t = Scope.detached(init).requiresGrad();
        parameters.put(name, t);
        return t;
    }

    /** Creates a buffer with {@code init} (outside the current scope): saved in the state dict, never trained. */
    protected final Tensor registerBuffer(String name, Supplier<Tensor> init) {
        checkNewName(name);
        Tensor t = Scope.detached(init);
        buffers.put(name, t);
        return t;
    }

    /**
     * Registers {@code module} as a child under {@code name}: its state appears under "name." and it is closed with
     * this module. Returns it.
     */
    protected final <M extends Module> M registerModule(String name, M module) {
        checkNewName(name);
        if (module == null) throw new IllegalArgumentException(getClass().getSimpleName() + ": module '" + name + "' is null");
        children.put(name, module);
        return module;
    }

    private void checkNewName(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": names must be non-empty and without '.', got '" + name + "'");
        }
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": duplicate name '" + name + "'");
        }
    }

    /**
     * Every parameter of this module and its children, keyed by dotted path ("0.weight", "fc1.bias"). A module
     * registered in two places (one layer used twice) has its parameters listed once, under the first path: an
     * optimizer or a gradient clip given them twice would step or scale them twice. {@link #stateDict()} names both.
     */
    public final Map<String, Tensor> namedParameters() {
        Map<String, Tensor> all = new LinkedHashMap<>();
        collect("", all, true, false);
        Map<String, Tensor> out = new LinkedHashMap<>();
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        all.forEach((name, t) -> {
            if (seen.add(t)) out.put(name, t);
        });
        return Collections.unmodifiableMap(out);
    }

    /** Every buffer of this module and its children, keyed by dotted path ("1.running_mean"). */
    public final Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, false, true);
        return Collections.unmodifiableMap(out);
    }

    /**
     * The module's whole state: every parameter and buffer by dotted path, each module's parameters then its buffers,
     * then its children in registration order (PyTorch's order and names). The tensors are the live ones, not
     * copies: save them, or copy them, before training on.
     */
    public final Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, true, true);
        return Collections.unmodifiableMap(out);
    }

    private void collect(String prefix, Map<String, Tensor> out, boolean params, boolean bufs) {
        if (params) parameters.forEach((name, t) -> out.put(prefix + name, t));
        if (bufs) buffers.forEach((name, t) -> out.put(prefix + name, t));
        children.forEach((name, m) -> m.collect(prefix + name + ".", out, params, bufs));
    }

    /**
     * Copies {@code state} into this module's parameters and buffers (from any device). Every name must match and
     * every shape and dtype agree; otherwise nothing is copied and the exception lists every missing, unexpected and
     * mismatched entry.
     */
    public final void loadStateDict(Map<String, Tensor> state) {
        StateDicts.load(getClass().getSimpleName(), stateDict(), state);
    }

    /**
     * Throws the exception {@link #loadStateDict} would throw for {@code state}, and otherwise does nothing: lets a
     * checkpoint holding several parts check every part before it loads any.
     */
    public final void checkStateDict(Map<String, Tensor> state) {
        StateDicts.check(getClass().getSimpleName(), stateDict(), state);
    }

    /** The parameters of {@link #namedParameters()}, in a new list: what an optimizer takes. */
    public final List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Total number of parameter elements. */
    public final long parameterCount() {
        long n = 0;
        for (Tensor t : namedParameters().values()) n += t.numel();
        return n;
    }

    /** Sets training mode here and in every child; returns this module. */
    public final Module train() {
        return train(true);
    }

    /** Sets evaluation mode here and in every child; returns this module. */
    public final Module eval() {
        return train(false);
    }

    /** Sets training mode here and in every child (dropout, batch norm behave differently in eval mode). */
    public Module train(boolean on) {
        training = on;
        for (Module m : children.values()) m.train(on);
        return this;
    }

    /** Whether this module is in training mode (the default) rather than evaluation mode. */
    public final boolean isTraining() {
        return training;
    }

    /** Zeroes the gradient of every parameter (lazily, as {@link Tensor#zeroGrad()} does). */
    public final void zeroGrad() {
        for (Tensor t : namedParameters().values()) t.zeroGrad();
    }

    /** Frees every parameter (and its gradient) and buffer of this module and its children. */
    @Override
    public void close() {
        for (Tensor t : parameters.values()) t.close();
        for (Tensor t : buffers.values()) t.close();
        for (Module m : children.values()) m.close();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + parameterCount() + " parameters)";
    }
}

package dev.kiln.nn;

import dev.kiln.Scope;
import dev.kiln.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A layer or a model: owns parameters (leaf tensors that require grad) and child modules, has a train/eval mode,
 * and maps an input tensor to an output. Parameters live outside any {@link Scope} and are freed by {@link #close()}.
 */
public abstract class Module implements AutoCloseable {
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    public abstract Tensor forward(Tensor x);

    /** Creates a parameter with {@code init} (outside the current scope), marks it as requiring grad, registers it. */
    protected final Tensor registerParameter(String name, Supplier<Tensor> init) {
        if (parameters.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": duplicate name '" + name + "'");
        }
        Tensor t = Scope.detached(init).requiresGrad();
        parameters.put(name, t);
        return t;
    }

    protected final <M extends Module> M registerModule(String name, M module) {
        if (parameters.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": duplicate name '" + name + "'");
        }
        children.put(name, module);
        return module;
    }

    /** Every parameter of this module and its children, keyed by dotted path ("0.weight", "fc1.bias"). */
    public final Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out);
        return Collections.unmodifiableMap(out);
    }

    private void collect(String prefix, Map<String, Tensor> out) {
        parameters.forEach((name, t) -> out.put(prefix + name, t));
        children.forEach((name, m) -> m.collect(prefix + name + ".", out));
    }

    public final List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Total number of parameter elements. */
    public final long parameterCount() {
        long n = 0;
        for (Tensor t : namedParameters().values()) n += t.numel();
        return n;
    }

    public final Module train() {
        return train(true);
    }

    public final Module eval() {
        return train(false);
    }

    /** Sets training mode here and in every child (dropout, batch norm behave differently in eval mode). */
    public Module train(boolean on) {
        training = on;
        for (Module m : children.values()) m.train(on);
        return this;
    }

    public final boolean isTraining() {
        return training;
    }

    public final void zeroGrad() {
        for (Tensor t : namedParameters().values()) t.zeroGrad();
    }

    /** Frees every parameter (and its gradient) of this module and its children. */
    @Override
    public void close() {
        for (Tensor t : parameters.values()) t.close();
        for (Module m : children.values()) m.close();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + parameterCount() + " parameters)";
    }
}

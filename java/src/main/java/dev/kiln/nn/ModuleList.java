package dev.kiln.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** An indexed list of child modules, named "0", "1", ... in the state dict (PyTorch's nn.ModuleList). */
public final class ModuleList<M extends Module> extends Module {
    private final List<M> modules = new ArrayList<>();

    /** Registers {@code modules} in order as children "0", "1", ... */
    public ModuleList(List<M> modules) {
        for (M m : modules) this.modules.add(registerModule(Integer.toString(this.modules.size()), m));
    }

    /** The module at index {@code i}. */
    public M get(int i) {
        return modules.get(i);
    }

    /** Number of modules. */
    public int size() {
        return modules.size();
    }

    /** The modules in order, as an unmodifiable list. */
    public List<M> asList() {
        return Collections.unmodifiableList(modules);
    }
}

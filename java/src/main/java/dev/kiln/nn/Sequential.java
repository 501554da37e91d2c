package dev.kiln.nn;

import dev.kiln.Tensor;

import java.util.List;

/** Modules applied one after another; their parameters are named by position ("0.weight"). */
public final class Sequential extends Module {
    private final List<Module> layers;

    public Sequential(Module... layers) {
        this.layers = List.of(layers);
        for (int i = 0; i < layers.length; i++) registerModule(Integer.toString(i), layers[i]);
    }

    public List<Module> layers() {
        return layers;
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor h = x;
        for (Module m : layers) h = m.forward(h);
        return h;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("Sequential(");
        for (int i = 0; i < layers.size(); i++) b.append(i == 0 ? "" : ", ").append(layers.get(i));
        return b.append(")").toString();
    }
}

package dev.kiln.nn;

import dev.kiln.Tensor;

import java.util.List;

/** Layers applied one after another; their parameters are named by position ("0.weight"). */
public final class Sequential extends Layer {
    private final List<Layer> layers;

    /** Chains {@code layers} in order, registering them as children "0", "1", ... */
    public Sequential(Layer... layers) {
        this.layers = List.of(layers);
        for (int i = 0; i < layers.length; i++) registerModule(Integer.toString(i), layers[i]);
    }

    /** The layers in order, as an unmodifiable list. */
    public List<Layer> layers() {
        return layers;
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor h = x;
        for (Layer m : layers) h = m.forward(h);
        return h;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("Sequential(");
        for (int i = 0; i < layers.size(); i++) b.append(i == 0 ? "" : ", ").append(layers.get(i));
        return b.append(")").toString();
    }
}

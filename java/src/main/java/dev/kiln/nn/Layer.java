package dev.kiln.nn;

import dev.kiln.Tensor;

/** A module that maps one tensor to one tensor: what {@link Sequential} chains and most layers and models are. */
public abstract class Layer extends Module {
    /** Applies this layer to {@code x}; its ops record on the autograd tape as any op does. */
    public abstract Tensor forward(Tensor x);
}

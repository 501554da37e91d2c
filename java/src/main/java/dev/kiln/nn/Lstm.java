package dev.kiln.nn;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.ops.LstmOutput;
import dev.kiln.ops.Ops;

import java.util.ArrayList;
import java.util.List;

/**
 * A stacked, batch-first LSTM over (N, T, F). Each layer is one fused op (all time steps forward, full BPTT
 * backward); dropout applies between layers in training. Initialized as PyTorch (uniform in +-1/sqrt(H)); one
 * bias per layer (PyTorch's two biases add up to it).
 */
public final class Lstm extends Module {
    /** The output sequence of the last layer and the final states of every layer (first layer first). */
    public record Result(Tensor output, List<Tensor> hN, List<Tensor> cN) {
    }

    private final int inputSize;
    private final int hidden;
    private final int layers;
    private final float dropout;
    private final Generator generator;
    private final List<Tensor[]> weights = new ArrayList<>();  // per layer: w_ih, w_hh, bias

    public Lstm(int inputSize, int hidden, Device device, Generator g) {
        this(inputSize, hidden, 1, 0f, device, g);
    }

    public Lstm(int inputSize, int hidden, int layers, float dropout, Device device, Generator g) {
        if (inputSize <= 0 || hidden <= 0 || layers <= 0) {
            throw new IllegalArgumentException("Lstm: sizes must be positive, got input=" + inputSize + " hidden=" + hidden + " layers=" + layers);
        }
        if (!(dropout >= 0f && dropout < 1f)) throw new IllegalArgumentException("Lstm: dropout must be in [0, 1), got " + dropout);
        this.inputSize = inputSize;
        this.hidden = hidden;
        this.layers = layers;
        this.dropout = dropout;
        this.generator = g;
        float bound = (float) (1.0 / Math.sqrt(hidden));
        for (int l = 0; l < layers; l++) {
            int in = l == 0 ? inputSize : hidden;
            Tensor wIh = registerParameter("weight_ih_l" + l, () -> Init.uniform(Tensor.empty(device, 4 * hidden, in), -bound, bound, g));
            Tensor wHh = registerParameter("weight_hh_l" + l, () -> Init.uniform(Tensor.empty(device, 4 * hidden, hidden), -bound, bound, g));
            Tensor b = registerParameter("bias_l" + l, () -> Init.uniform(Tensor.empty(device, 4 * hidden), -bound, bound, g));
            weights.add(new Tensor[] {wIh, wHh, b});
        }
    }

    public int hiddenSize() {
        return hidden;
    }

    /** The output sequence (N, T, H) of the last layer, from zero initial states. */
    @Override
    public Tensor forward(Tensor x) {
        return run(x, null, null).output();
    }

    /** Runs every layer; h0/c0 hold one (N, H) tensor per layer, or are null for zeros. */
    public Result run(Tensor x, List<Tensor> h0, List<Tensor> c0) {
        if (x.rank() != 3 || x.dim(2) != inputSize) {
            throw new IllegalArgumentException("Lstm(" + inputSize + " -> " + hidden + "): input must be (N, T, " + inputSize + "), got " + x);
        }
        List<Tensor> hs = new ArrayList<>(), cs = new ArrayList<>();
        Tensor h = x;
        for (int l = 0; l < layers; l++) {
            if (l > 0) h = Ops.dropout(h, dropout, generator, isTraining());
            Tensor[] w = weights.get(l);
            LstmOutput out = Ops.lstm(h, h0 == null ? null : h0.get(l), c0 == null ? null : c0.get(l), w[0], w[1], w[2]);
            h = out.output();
            hs.add(out.hN());
            cs.add(out.cN());
        }
        return new Result(h, hs, cs);
    }

    @Override
    public String toString() {
        return "Lstm(" + inputSize + " -> " + hidden + (layers > 1 ? ", " + layers + " layers" : "")
                + (dropout > 0 ? ", dropout " + dropout : "") + ")";
    }
}

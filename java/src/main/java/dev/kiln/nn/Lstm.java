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
 * backward); dropout applies between layers in training. Weights initialized as PyTorch's (uniform in +-1/sqrt(H));
 * one bias per layer, also uniform in +-1/sqrt(H), where PyTorch's two biases (each so drawn) add up to a sum of twice
 * that variance (a PyTorch LSTM's weights carry over with b_ih + b_hh as this bias).
 */
public final class Lstm extends Module {
    private final int inputSize;
    private final int hidden;
    private final int layers;
    private final float dropout;
    private final Generator generator;
    private final List<Tensor[]> weights = new ArrayList<>();  // per layer: w_ih, w_hh, bias

    /** One layer, {@code inputSize} features F to {@code hidden} H, on {@code device}, initialized from {@code g}. */
    public Lstm(int inputSize, int hidden, Device device, Generator g) {
        this(inputSize, hidden, 1, 0f, device, g);
    }

    /**
     * {@code layers} stacked layers, with dropout at rate {@code dropout}, in [0, 1), between them in training (masks
     * from {@code g}).
     */
    public Lstm(int inputSize, int hidden, int layers, float dropout, Device device, Generator g) {
        if (inputSize <= 0 || hidden <= 0 || layers <= 0) {
            throw new IllegalArgumentException("Lstm: sizes must be positive, got input=" + inputSize + " hidden=" + hidden + " layers=" + layers);
        }
        if (hidden > Integer.MAX_VALUE / 4) {  // the gate matrices are (4H, ...): 4H must be a dimension
            throw new IllegalArgumentException("Lstm: hidden size " + hidden + " is too large: 4 * hidden must fit an int");
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

    /** The hidden size H. */
    public int hiddenSize() {
        return hidden;
    }

    /** Runs every layer from zero initial states: x is (N, T, F); the output sequence is (N, T, H). */
    public LstmOutput forward(Tensor x) {
        return forward(x, null, null);
    }

    /**
     * Runs every layer; h0 and c0 hold one (N, H) tensor per layer (first layer first), or are null for zeros. The
     * result holds the last layer's output sequence (N, T, H) and every layer's final states.
     */
    public LstmOutput forward(Tensor x, List<Tensor> h0, List<Tensor> c0) {
        if (x == null || x.isClosed() || x.rank() != 3 || x.dim(2) != inputSize) {
            throw new IllegalArgumentException("Lstm(" + inputSize + " -> " + hidden + "): input must be (N, T, " + inputSize + "), got " + x);
        }
        checkStates("h0", h0);
        checkStates("c0", c0);
        List<Tensor> hs = new ArrayList<>(), cs = new ArrayList<>();
        Tensor h = x;
        for (int l = 0; l < layers; l++) {
            if (l > 0) h = Ops.dropout(h, dropout, generator, isTraining());
            Tensor[] w = weights.get(l);
            LstmOutput out = Ops.lstm(h, h0 == null ? null : h0.get(l), c0 == null ? null : c0.get(l), w[0], w[1], w[2]);
            h = out.output();
            hs.add(out.hN().get(0));
            cs.add(out.cN().get(0));
        }
        return new LstmOutput(h, hs, cs);
    }

    private void checkStates(String name, List<Tensor> states) {
        if (states != null && states.size() != layers) {
            throw new IllegalArgumentException(this + ": " + name + " must hold one (N, " + hidden + ") tensor per layer ("
                    + layers + "), got " + states.size());
        }
    }

    @Override
    public String toString() {
        return "Lstm(" + inputSize + " -> " + hidden + (layers > 1 ? ", " + layers + " layers" : "")
                + (dropout > 0 ? ", dropout " + dropout : "") + ")";
    }
}

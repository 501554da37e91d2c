package dev.kiln.ops;

import dev.kiln.Tensor;

import java.util.List;

/**
 * The results of an LSTM: the output sequence and each layer's final states, first layer first ({@link Ops#lstm}
 * runs one layer: its lists hold one tensor each).
 *
 * @param output the last layer's hidden state at every step, (N, T, H)
 * @param hN     each layer's last hidden state, (N, H)
 * @param cN     each layer's last cell state, (N, H)
 */
public record LstmOutput(Tensor output, List<Tensor> hN, List<Tensor> cN) {
    /** Copies the lists, which must hold one tensor per layer each (at least one), or IllegalArgumentException. */
    public LstmOutput {
        hN = List.copyOf(hN);
        cN = List.copyOf(cN);
        if (hN.isEmpty() || hN.size() != cN.size()) {
            throw new IllegalArgumentException("LstmOutput: needs one final hidden and one final cell state per layer, got "
                    + hN.size() + " and " + cN.size());
        }
    }

    /** The last layer's final hidden state, (N, H): what a classifier on top reads. */
    public Tensor lastHidden() {
        return hN.get(hN.size() - 1);
    }
}

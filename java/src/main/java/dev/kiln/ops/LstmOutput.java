package dev.kiln.ops;

import dev.kiln.Tensor;

/**
 * The results of an LSTM layer.
 *
 * @param output the hidden state at every step, (N, T, H)
 * @param hN     the last hidden state, (N, H)
 * @param cN     the last cell state, (N, H)
 */
public record LstmOutput(Tensor output, Tensor hN, Tensor cN) {
}

package dev.kiln;

import java.util.List;

/**
 * Anomaly detection ({@link dev.kiln.ops.Autograd#detectAnomaly()}) found a NaN or an infinity: in the output of an op
 * in the forward pass, or in a gradient an op's backward computed. It names the first op that produced one and the
 * shapes of that op's inputs. A {@link KilnException} (unchecked) like the native library's failures: it reports
 * what the computation did, not a bad argument of the call that threw it.
 */
public class KilnAnomalyException extends KilnException {
    /** Where the non-finite value appeared. */
    public enum Phase { FORWARD, BACKWARD }

    private final String op;
    private final Phase phase;
    private final List<int[]> inputShapes;

    public KilnAnomalyException(String op, Phase phase, List<int[]> inputShapes, String message) {
        super(message);
        this.op = op;
        this.phase = phase;
        this.inputShapes = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(inputShapes));
    }

    /** The op's name as the tape records it ("div", "conv2d", "batch_norm"). */
    public String op() {
        return op;
    }

    public Phase phase() {
        return phase;
    }

    /** The shapes of the op's inputs, in argument order; an absent optional input (a null bias) is null. */
    public List<int[]> inputShapes() {
        return inputShapes;
    }
}

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
    public enum Phase {
        /** In the output of an op's forward. */
        FORWARD,
        /** In a gradient computed by an op's backward. */
        BACKWARD
    }

    /** The op's name as the tape records it. */
    private final String op;
    /** Whether the value appeared in the forward or the backward pass. */
    private final Phase phase;
    /** The shapes of the op's inputs, an absent input as null; unmodifiable. */
    private final List<int[]> inputShapes;

    /** Made by the autograd engine's anomaly check, with {@code message} saying what it found; copies the list. */
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

    /** Whether the non-finite value appeared in the op's forward output or in a gradient its backward computed. */
    public Phase phase() {
        return phase;
    }

    /** The shapes of the op's inputs, in argument order; an absent optional input (a null bias) is null. */
    public List<int[]> inputShapes() {
        return inputShapes;
    }
}

package dev.kiln.internal;

/**
 * One batch-first LSTM layer, field for field {@code kiln_lstm_desc} in kiln.h: x (n, t, f), hidden size h. The
 * table in native/src/jni/jni_lstm.cpp maps each component to its C field.
 */
public record LstmDesc(long n, long t, long f, long h) {
    /** The forward's GEMM arithmetic: the input and recurrent projections of every step, 2 n t 4h (f + h). */
    long forwardFlops() {
        return (long) (2.0 * n * t * 4 * h * (f + h));
    }

    /**
     * The backward's products, only those it computes: dW_ih and dW_hh over every step, dh through the recurrence
     * (into step 0 only when dh0 is wanted) and dx when wanted. With everything wanted, twice the forward.
     */
    long backwardFlops(boolean dx, boolean dh0) {
        double gates = 2.0 * n * 4 * h;  // times the depth of one product, per step
        double steps = t, recurrence = t - 1 + (dh0 ? 1 : 0);
        return (long) (gates * (steps * (f + h) + recurrence * h + (dx ? steps * f : 0)));
    }

    long inputElements() {
        return Sizes.product(n, t, f);
    }

    long sequenceElements() {
        return Sizes.product(n, t, h);
    }

    long stateElements() {
        return Sizes.product(n, h);
    }

    long inputWeightElements() {
        return Sizes.product(4, h, f);
    }

    long hiddenWeightElements() {
        return Sizes.product(4, h, h);
    }

    long biasElements() {
        return Sizes.product(4, h);
    }
}

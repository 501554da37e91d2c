package dev.kiln.bench;

/** The peers are checked to compute the same thing before anything is timed (fp32 both, different summation orders). */
final class Agreement {
    private Agreement() {
    }

    /** Throws unless every |kiln - peer| is within {@code relTol} of the largest |kiln|. */
    static void check(String what, float[] kiln, float[] peer, double relTol) {
        double scale = 0, worst = 0;
        int at = -1;
        for (int i = 0; i < kiln.length; i++) {
            scale = Math.max(scale, Math.abs(kiln[i]));
            double d = Math.abs((double) kiln[i] - peer[i]);
            if (!(d <= worst)) {  // also catches NaN
                worst = d;
                at = i;
            }
        }
        if (kiln.length != peer.length || !(worst <= relTol * Math.max(scale, 1e-30))) {
            throw new IllegalStateException(what + ": Kiln and the peer disagree: |diff| " + worst + " at element " + at
                    + " (scale " + scale + ", tolerance " + relTol + " relative)");
        }
    }
}

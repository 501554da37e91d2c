package dev.kiln;

/** Lets tests in other packages use RandomTest's independent Philox implementation. */
public final class RandomTestAccess {
    private RandomTestAccess() {
    }

    public static int[] philox(int[] ctr, int k0, int k1) {
        return RandomTest.philox(ctr, k0, k1);
    }
}

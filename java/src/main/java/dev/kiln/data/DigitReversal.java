package dev.kiln.data;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The sequence-to-sequence task of the encoder-decoder Transformer, generated in code: reverse a string of 8 to 16
 * decimal digits. Tokens: {@link #PAD} 0, {@link #BOS} 1, {@link #EOS} 2, digits 0-9 as 3-12. The held-out strings are
 * drawn from their own seed and never appear in the training stream.
 */
public final class DigitReversal {
    /** The padding token. */
    public static final int PAD = 0;
    /** The begin-of-sequence token: the decoder's first input. */
    public static final int BOS = 1;
    /** The end-of-sequence token, after the reversed digits. */
    public static final int EOS = 2;
    /** The token of digit 0: digit d is {@code DIGIT_0 + d}. */
    public static final int DIGIT_0 = 3;
    /** Number of tokens: PAD, BOS, EOS and the ten digits. */
    public static final int VOCAB = 13;
    /** Fewest digits in a generated string. */
    public static final int MIN_DIGITS = 8;
    /** Most digits in a string: the source length. */
    public static final int MAX_DIGITS = 16;
    /** Decoder positions: the reversed digits and EOS. */
    public static final int TARGET_LENGTH = MAX_DIGITS + 1;

    /**
     * A batch as int32 arrays, row-major: source (N, 16) padded with PAD and its lengths (N); the decoder's input
     * targetIn (N, 17) = BOS + reversed digits, padded; its labels targetOut (N, 17) = reversed digits + EOS, padded.
     * The decoder learns to emit PAD after EOS, so every position is trained and none needs a mask.
     */
    public record Batch(int size, int[] source, int[] sourceLengths, int[] targetIn, int[] targetOut) {
    }

    private final Set<String> heldOut = new HashSet<>();
    private final List<int[]> heldOutStrings;
    private final Random training;

    /** Held-out strings from {@code heldOutSeed}; the training stream from {@code trainingSeed}, skipping them. */
    public DigitReversal(long trainingSeed, long heldOutSeed, int heldOutCount) {
        Random r = new Random(heldOutSeed);
        heldOutStrings = new ArrayList<>(heldOutCount);
        while (heldOutStrings.size() < heldOutCount) {
            int[] s = draw(r);
            if (heldOut.add(key(s))) heldOutStrings.add(s);
        }
        training = new Random(trainingSeed);
    }

    /** The held-out strings (digits 0-9), in a fixed order. */
    public List<int[]> heldOut() {
        return heldOutStrings;
    }

    /** The next {@code n} training strings. */
    public List<int[]> nextTraining(int n) {
        List<int[]> out = new ArrayList<>(n);
        while (out.size() < n) {
            int[] s = draw(training);
            if (!heldOut.contains(key(s))) out.add(s);
        }
        return out;
    }

    private static int[] draw(Random r) {
        int[] s = new int[MIN_DIGITS + r.nextInt(MAX_DIGITS - MIN_DIGITS + 1)];
        for (int i = 0; i < s.length; i++) s[i] = r.nextInt(10);
        return s;
    }

    private static String key(int[] digits) {
        StringBuilder b = new StringBuilder(digits.length);
        for (int d : digits) b.append((char) ('0' + d));
        return b.toString();
    }

    /** The batch of these digit strings. */
    public static Batch batch(List<int[]> strings) {
        int n = strings.size();
        int[] source = new int[n * MAX_DIGITS], lengths = new int[n];
        int[] in = new int[n * TARGET_LENGTH], out = new int[n * TARGET_LENGTH];
        for (int i = 0; i < n; i++) {
            int[] s = strings.get(i);
            if (s.length < 1 || s.length > MAX_DIGITS) throw new IllegalArgumentException("DigitReversal: strings hold 1 to 16 digits, got " + s.length);
            lengths[i] = s.length;
            in[i * TARGET_LENGTH] = BOS;
            for (int j = 0; j < s.length; j++) {
                source[i * MAX_DIGITS + j] = DIGIT_0 + s[j];
                int reversed = DIGIT_0 + s[s.length - 1 - j];
                out[i * TARGET_LENGTH + j] = reversed;
                if (j + 1 < TARGET_LENGTH) in[i * TARGET_LENGTH + j + 1] = reversed;
            }
            out[i * TARGET_LENGTH + s.length] = EOS;
        }
        return new Batch(n, source, lengths, in, out);
    }

    /** Whether {@code decoded} (tokens up to, not including, EOS) is exactly the reverse of {@code digits}. */
    public static boolean isReversal(int[] digits, int[] decoded) {
        if (decoded.length != digits.length) return false;
        for (int j = 0; j < digits.length; j++) if (decoded[j] != DIGIT_0 + digits[digits.length - 1 - j]) return false;
        return true;
    }

    /** "0123" for digits, tokens shown as digits or as &lt;pad&gt;, &lt;bos&gt;, &lt;eos&gt;. */
    public static String render(int[] tokens, boolean areDigits) {
        StringBuilder b = new StringBuilder();
        for (int t : tokens) {
            if (areDigits) b.append((char) ('0' + t));
            else if (t >= DIGIT_0 && t < VOCAB) b.append((char) ('0' + t - DIGIT_0));
            else b.append(t == PAD ? "<pad>" : t == BOS ? "<bos>" : t == EOS ? "<eos>" : "<" + t + ">");
        }
        return b.toString();
    }
}

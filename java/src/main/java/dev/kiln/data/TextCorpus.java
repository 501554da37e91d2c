package dev.kiln.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A text as character ids for a character language model: the alphabet is every character the text holds (sorted),
 * the first 90% is the training text and the last 10% the held-out text, and training batches are windows of
 * context + 1 characters at random offsets (inputs and their next characters).
 */
public final class TextCorpus {
    /** Where Debian's {@code fortunes} package puts its collections. */
    public static final Path FORTUNES = Path.of("/usr/share/games/fortunes");

    private final String alphabet;
    private final int[] index = new int[Character.MAX_VALUE + 1];
    private final int[] ids;
    private final int split;

    /** The text's characters as ids; the first 90% for training. */
    public TextCorpus(String text) {
        if (text.length() < 2) throw new IllegalArgumentException("TextCorpus: the text is too short (" + text.length() + " characters)");
        TreeSet<Character> chars = new TreeSet<>();
        for (int i = 0; i < text.length(); i++) chars.add(text.charAt(i));
        StringBuilder a = new StringBuilder();
        java.util.Arrays.fill(index, -1);
        for (char c : chars) {
            index[c] = a.length();
            a.append(c);
        }
        alphabet = a.toString();
        ids = new int[text.length()];
        for (int i = 0; i < ids.length; i++) ids[i] = index[text.charAt(i)];
        split = (int) (ids.length * 0.9);
    }

    /**
     * The Debian {@code fortunes} collections: the files without an extension in {@code dir}, in name order,
     * concatenated (UTF-8, malformed bytes replaced).
     */
    public static TextCorpus fortunes(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("TextCorpus: " + dir + " does not exist; install the Debian package 'fortunes' "
                    + "(apt-get install fortunes)");
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> texts = files.filter(p -> !p.getFileName().toString().contains("."))
                    .filter(Files::isRegularFile).sorted().toList();
            if (texts.isEmpty()) throw new IllegalStateException("TextCorpus: no fortune files (without an extension) in " + dir);
            StringBuilder text = new StringBuilder();
            for (Path p : texts) text.append(new String(Files.readAllBytes(p), StandardCharsets.UTF_8));
            return new TextCorpus(text.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("TextCorpus: reading " + dir, e);
        }
    }

    /** Number of distinct characters: the size of the alphabet. */
    public int vocab() {
        return alphabet.length();
    }

    /** Every character of the text, sorted: a character's id is its index here. */
    public String alphabet() {
        return alphabet;
    }

    /** Characters in the training text (the first 90%). */
    public int trainingLength() {
        return split;
    }

    /** Characters in the held-out text (the last 10%). */
    public int validationLength() {
        return ids.length - split;
    }

    /** The ids of text; a character outside the alphabet is refused. */
    public int[] encode(String text) {
        int[] out = new int[text.length()];
        for (int i = 0; i < out.length; i++) {
            int id = index[text.charAt(i)];
            if (id < 0) throw new IllegalArgumentException("TextCorpus: '" + text.charAt(i) + "' (U+" + Integer.toHexString(text.charAt(i)) + ") is not in the corpus' alphabet");
            out[i] = id;
        }
        return out;
    }

    /** The text of {@code tokens}, each an index into {@link #alphabet()}. */
    public String decode(int[] tokens) {
        StringBuilder b = new StringBuilder(tokens.length);
        for (int t : tokens) b.append(alphabet.charAt(t));
        return b.toString();
    }

    /**
     * {@code batch} training windows of {@code context + 1} ids at uniform random offsets, row-major (batch, context + 1):
     * column t is the input at position t and the label of position t - 1.
     */
    public int[] trainingWindows(Random random, int batch, int context) {
        int span = context + 1;
        if (split < span) throw new IllegalArgumentException("TextCorpus: training text shorter than a window of " + span);
        int[] out = new int[batch * span];
        for (int b = 0; b < batch; b++) System.arraycopy(ids, random.nextInt(split - span + 1), out, b * span, span);
        return out;
    }

    /** The held-out text cut into consecutive, non-overlapping windows of context + 1 ids (the last partial one dropped). */
    public int[] validationWindows(int context) {
        int span = context + 1;
        int count = (ids.length - split) / span;
        int[] out = new int[count * span];
        System.arraycopy(ids, split, out, 0, out.length);
        return out;
    }
}

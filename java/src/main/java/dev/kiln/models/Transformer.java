package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.nn.Embedding;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Module;
import dev.kiln.ops.Autograd;
import dev.kiln.ops.NoGrad;
import dev.kiln.ops.Ops;

import java.util.Arrays;
import java.util.Random;

/**
 * The Transformer model: token embeddings, positions, the {@link dev.kiln.nn.Transformer} stacks and a linear head
 * over the vocabulary, in two configurations:
 * <ul>
 *   <li>{@link #seq2seq}: encoder-decoder (2 + 2 layers, d_model 128, 4 heads, sinusoidal positions), trained with
 *   teacher forcing, decoded greedily ({@link #greedy});</li>
 *   <li>{@link #charLm}: decoder-only character language model (4 layers, d_model 128, 4 heads, learned positions,
 *   context 128), sampled with a key/value cache ({@link #generate}).</li>
 * </ul>
 * Source and target share one embedding table (one vocabulary).
 */
public final class Transformer extends Module {
    /** The shape of a model; {@code encoderLayers == 0} makes it decoder-only. */
    public record Config(int vocab, int dModel, int heads, int hidden, int encoderLayers, int decoderLayers,
                         int maxLength, boolean learnedPositions, float dropout) {
        /** Checks the sizes: vocab at least 2, and dModel, heads, hidden and maxLength positive, or throws. */
        public Config {
            if (vocab < 2 || dModel < 1 || heads < 1 || hidden < 1 || maxLength < 1) {
                throw new IllegalArgumentException("Transformer.Config: sizes must be positive (vocab >= 2), got " + this);
            }
        }
    }

    /** Encoder-decoder for the digit-reversal task: 2 + 2 layers, d_model 128, 4 heads, feed-forward 512. */
    public static Config seq2seqConfig(int vocab, int maxLength) {
        return new Config(vocab, 128, 4, 512, 2, 2, maxLength, false, 0f);
    }

    /** Decoder-only character model: 4 layers, d_model 128, 4 heads, feed-forward 512, context 128. */
    public static Config charLmConfig(int vocab) {
        return new Config(vocab, 128, 4, 512, 0, 4, 128, true, 0f);
    }

    /** The encoder-decoder of {@link #seq2seqConfig} on {@code device}, initialized from {@code g}. */
    public static Transformer seq2seq(int vocab, int maxLength, Device device, Generator g) {
        return new Transformer(seq2seqConfig(vocab, maxLength), device, g);
    }

    /** The character model of {@link #charLmConfig} on {@code device}, initialized from {@code g}. */
    public static Transformer charLm(int vocab, Device device, Generator g) {
        return new Transformer(charLmConfig(vocab), device, g);
    }

    private final Config config;
    private final Device device;
    private final Embedding embed;
    private final Embedding positions;  // learned positions, or null (sinusoidal)
    private final dev.kiln.nn.Transformer stacks;
    private final Linear head;

    /** A model of {@code config} on {@code device}; {@code g} initializes its weights and draws its dropout masks. */
    public Transformer(Config config, Device device, Generator g) {
        this.config = config;
        this.device = device;
        // Rows of std 1 and positions of amplitude about 1 enter the residual stream at the same scale (pre-norm
        // layers normalize what they read, so no sqrt(d_model) factor is needed).
        embed = registerModule("embed", new Embedding(config.vocab(), config.dModel(), 1f, device, g));
        positions = config.learnedPositions()
                ? registerModule("pos", new Embedding(config.maxLength(), config.dModel(), 1f, device, g)) : null;
        stacks = registerModule("transformer", new dev.kiln.nn.Transformer(config.dModel(), config.heads(), config.hidden(),
                config.encoderLayers(), config.decoderLayers(), config.dropout(), device, g));
        head = registerModule("head", new Linear(config.dModel(), config.vocab(), device, g));
    }

    /** The configuration this model was built from. */
    public Config config() {
        return config;
    }

    /** Embeddings plus positions start .. start + T - 1 of tokens (N, T) int32: (N, T, d_model). */
    private Tensor embedded(Tensor tokens, int start) {
        int t = tokens.dim(1);
        if (start + t > config.maxLength()) {
            throw new IllegalArgumentException("Transformer: positions up to " + (start + t) + " pass the maximum length " + config.maxLength());
        }
        Tensor x = embed.forward(tokens);
        Tensor pos;
        if (positions != null) {
            int[] ids = new int[t];
            for (int i = 0; i < t; i++) ids[i] = start + i;
            pos = positions.forward(Tensor.ofInts(tokens.device(), ids, t));
        } else {
            pos = Ops.sinusoidalPositions(tokens.device(), t, config.dModel(), start);
        }
        return x.add(pos);
    }

    /**
     * Teacher-forced logits of the encoder-decoder: source (N, S) int32 with per-row lengths (N) (null: all S),
     * decoder input (N, T); the result is (N, T, vocab).
     */
    public Tensor logits(Tensor source, Tensor sourceLengths, Tensor targetIn) {
        requireEncoderDecoder();
        Tensor memory = stacks.encode(embedded(source, 0), sourceLengths);
        return head.forward(stacks.decode(embedded(targetIn, 0), memory, sourceLengths));
    }

    /** Next-token logits of the decoder-only model for tokens (N, T): (N, T, vocab). */
    public Tensor logits(Tensor tokens) {
        requireDecoderOnly();
        return head.forward(stacks.decode(embedded(tokens, 0), null, null));
    }

    /** Mean cross entropy of (N, T, vocab) logits against labels (N, T) int32, in nats per token. */
    public static Tensor loss(Tensor logits, Tensor labels) {
        int vocab = logits.dim(2);
        return Ops.crossEntropy(logits.reshape(-1, vocab), labels.reshape(-1));
    }

    /**
     * Greedy decoding of a batch: source (N, S) int32 with lengths (N); starts from {@code bos}, stops a row at
     * {@code eos}, at most {@code maxSteps} tokens. Returns each row's tokens before its EOS. One key/value cache per
     * decoder layer, the memory projected once: step t costs O(t + S).
     */
    public int[][] greedy(Tensor source, Tensor sourceLengths, int bos, int eos, int maxSteps) {
        requireEncoderDecoder();
        int n = source.dim(0);
        int[][] out = new int[n][];
        int[] lengths = new int[n];
        Arrays.fill(lengths, -1);
        int[][] tokens = new int[n][maxSteps];
        try (Scope s = Scope.open(); NoGrad off = Autograd.noGrad()) {
            Tensor memory = stacks.encode(embedded(source, 0), sourceLengths);
            try (dev.kiln.nn.Transformer.Decoding decoding = stacks.startDecoding(n, maxSteps, memory, sourceLengths)) {
                int[] next = new int[n];
                Arrays.fill(next, bos);
                for (int step = 0; step < maxSteps; step++) {
                    try (Scope stepScope = Scope.open()) {
                        Tensor x = embedded(Tensor.ofInts(device, next, n, 1), step);
                        Tensor logits = head.forward(decoding.step(x));
                        next = Ops.argmax(logits.reshape(n, config.vocab())).toIntArray();
                    }
                    boolean done = true;
                    for (int i = 0; i < n; i++) {
                        if (lengths[i] >= 0) continue;
                        if (next[i] == eos) lengths[i] = step;
                        else tokens[i][step] = next[i];
                        done &= lengths[i] >= 0;
                    }
                    if (done) break;
                }
            }
        }
        for (int i = 0; i < n; i++) out[i] = Arrays.copyOf(tokens[i], lengths[i] >= 0 ? lengths[i] : maxSteps);
        return out;
    }

    /**
     * Starts decoding {@code batch} sequences of the decoder-only model one position at a time through key/value
     * caches (up to the model's maximum length). Close the result.
     */
    public Incremental startIncremental(int batch) {
        requireDecoderOnly();
        return new Incremental(batch);
    }

    /** Incremental decoding of the decoder-only model: each {@link #feed} costs one cached step, O(position). */
    public final class Incremental implements AutoCloseable {
        private final dev.kiln.nn.Transformer.Decoding decoding;
        private final int batch;

        private Incremental(int batch) {
            this.batch = batch;
            this.decoding = stacks.startDecoding(batch, config.maxLength(), null, null);
        }

        /** Positions fed so far. */
        public int position() {
            return decoding.position();
        }

        /** Feeds one token per sequence at the next position; returns the next-token logits (batch, vocab). */
        public Tensor feed(int[] tokens) {
            if (tokens.length != batch) throw new IllegalArgumentException("Transformer.Incremental: " + batch + " tokens per step, got " + tokens.length);
            Tensor x = embedded(Tensor.ofInts(device, tokens, batch, 1), decoding.position());
            return head.forward(decoding.step(x)).reshape(batch, config.vocab());
        }

        @Override
        public void close() {
            decoding.close();
        }
    }

    /**
     * Samples {@code count} tokens after {@code prompt} from the decoder-only model at {@code temperature} (0: the most
     * likely token each time), one position at a time through the key/value caches; the prompt is fed one token per
     * step too. When the context (the model's maximum length) is full, the caches are rebuilt from the last half of
     * the text (a sliding window).
     */
    public int[] generate(int[] prompt, int count, float temperature, long seed) {
        requireDecoderOnly();
        if (prompt.length == 0) throw new IllegalArgumentException("Transformer.generate: the prompt must not be empty");
        if (count < 0 || !(temperature >= 0f)) throw new IllegalArgumentException("Transformer.generate: count >= 0 and temperature >= 0");
        Random random = new Random(seed);
        int[] text = Arrays.copyOf(prompt, prompt.length + count);
        int length = prompt.length;
        int window = config.maxLength();
        boolean wasTraining = isTraining();
        eval();
        try (NoGrad off = Autograd.noGrad()) {
            int from = Math.max(0, length - (window - 1));  // leave room for at least one new position
            while (length < text.length) {
                try (Scope s = Scope.open(); Incremental inc = startIncremental(1)) {
                    float[] logits = null;
                    for (int pos = from; pos < length; pos++) logits = stepLogits(inc, text[pos]);
                    while (length < text.length) {
                        text[length] = sample(logits, temperature, random);
                        length++;
                        if (inc.position() == window || length == text.length) break;
                        logits = stepLogits(inc, text[length - 1]);
                    }
                }
                from = Math.max(0, length - window / 2);
            }
        } finally {
            train(wasTraining);
        }
        return Arrays.copyOfRange(text, prompt.length, text.length);
    }

    private static float[] stepLogits(Incremental inc, int token) {
        try (Scope s = Scope.open()) {
            return inc.feed(new int[] {token}).toFloatArray();
        }
    }

    /** A token from softmax(logits / temperature), or the arg max at temperature 0. */
    static int sample(float[] logits, float temperature, Random random) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        if (temperature == 0f) return best;
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp((logits[i] - logits[best]) / temperature);
        double u = random.nextDouble() * sum;
        for (int i = 0; i < p.length; i++) {
            u -= p[i];
            if (u < 0) return i;
        }
        return best;
    }

    private void requireEncoderDecoder() {
        if (stacks.isDecoderOnly()) throw new IllegalStateException("Transformer: this is a decoder-only model; call logits(tokens)");
    }

    private void requireDecoderOnly() {
        if (!stacks.isDecoderOnly()) throw new IllegalStateException("Transformer: this is an encoder-decoder model");
    }

    @Override
    public String toString() {
        return "Transformer(" + config + ", " + parameterCount() + " parameters)";
    }
}

package dev.kiln.nn;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.ops.AttentionOptions;
import dev.kiln.ops.Ops;

import java.util.Arrays;

/**
 * Multi-head scaled dot-product attention with its projections, on the fused attention kernels.
 *
 * <p>{@link Kind#SELF}: one fused projection "qkv" (E -> 3E) whose output, viewed (N, T, 3, heads, headDim), the
 * kernel reads in place, then "out" (E -> E). {@link Kind#CROSS}: "q" (E -> E) of the queries and one fused "kv"
 * (E -> 2E) of the memory (the encoder's output), computed once per sequence when decoding. No transposes are
 * materialized: the kernel reads the projections token-major and writes its output token-major, (N, T, heads,
 * headDim), which is (N, T, E) for the output projection.
 *
 * <p>Dropout on the attention weights (rate given here, masks from the generator) applies in training mode only.
 */
public final class MultiHeadAttention extends Module {
    /** Whether the keys and values come from the queries' own sequence or from a memory. */
    public enum Kind {
        /** Keys and values from the queries' own sequence: one fused "qkv" projection. */
        SELF,
        /** Keys and values from a memory, the encoder's output: "q" and a fused "kv" projection. */
        CROSS
    }

    private final Kind kind;
    private final int dModel;
    private final int heads;
    private final int headDim;
    private final float dropout;
    private final Generator generator;
    private final Linear qkv;   // SELF
    private final Linear q;     // CROSS
    private final Linear kv;    // CROSS
    private final Linear out;

    /**
     * {@code heads} heads over {@code dModel} = E, which they must divide (head dimension at most 128); {@code dropout}
     * in [0, 1) is the attention-weight rate, its masks drawn from {@code g}, which also initializes the projections.
     */
    public MultiHeadAttention(Kind kind, int dModel, int heads, float dropout, Device device, Generator g) {
        if (kind == null) throw new IllegalArgumentException("MultiHeadAttention: kind is null");
        if (dModel <= 0 || heads <= 0 || dModel % heads != 0) {
            throw new IllegalArgumentException("MultiHeadAttention: dModel (" + dModel + ") must be a positive multiple of heads (" + heads + ")");
        }
        if (dModel / heads > 128) {
            throw new IllegalArgumentException("MultiHeadAttention: head dimension " + dModel / heads + " exceeds the kernels' 128");
        }
        if (!(dropout >= 0f && dropout < 1f)) throw new IllegalArgumentException("MultiHeadAttention: dropout must be in [0, 1), got " + dropout);
        this.kind = kind;
        this.dModel = dModel;
        this.heads = heads;
        this.headDim = dModel / heads;
        this.dropout = dropout;
        this.generator = g;
        if (kind == Kind.SELF) {
            qkv = registerModule("qkv", new Linear(dModel, 3 * dModel, device, g));
            q = null;
            kv = null;
        } else {
            qkv = null;
            q = registerModule("q", new Linear(dModel, dModel, device, g));
            kv = registerModule("kv", new Linear(dModel, 2 * dModel, device, g));
        }
        out = registerModule("out", new Linear(dModel, dModel, device, g));
    }

    /** Whether this is self- or cross-attention. */
    public Kind kind() {
        return kind;
    }

    /** Number of heads. */
    public int heads() {
        return heads;
    }

    /** Size of each head, dModel / heads. */
    public int headDim() {
        return headDim;
    }

    /** Self-attention of x (N, T, E) under {@code mask} (causal, key lengths); the result is (N, T, E). */
    public Tensor forward(Tensor x, AttentionOptions mask) {
        require(Kind.SELF, "forward(x, mask)");
        checkInput("x", x);
        int n = x.dim(0), t = x.dim(1);
        Tensor packed = qkv.forward(x).view(n, t, 3, heads, headDim);
        return project(Ops.selfAttention(packed, withDropout(mask)), n, t);
    }

    /** Cross-attention of queries x (N, T, E) to memory (N, S, E); the mask's key lengths cut the memory. */
    public Tensor forward(Tensor x, Tensor memory, AttentionOptions mask) {
        require(Kind.CROSS, "forward(x, memory, mask)");
        return attendMemory(x, projectMemory(memory), mask);
    }

    /** The memory's keys and values, (N, S, 2, heads, headDim): computed once, then read by every decoding step. */
    public Tensor projectMemory(Tensor memory) {
        require(Kind.CROSS, "projectMemory");
        checkInput("memory", memory);
        return kv.forward(memory).view(memory.dim(0), memory.dim(1), 2, heads, headDim);
    }

    /** Cross-attention of x (N, T, E) to keys and values from {@link #projectMemory}. */
    public Tensor attendMemory(Tensor x, Tensor memoryKv, AttentionOptions mask) {
        require(Kind.CROSS, "attendMemory");
        checkInput("x", x);
        int n = x.dim(0), t = x.dim(1);
        Tensor queries = q.forward(x).view(n, t, heads, headDim);
        return project(Ops.crossAttention(queries, memoryKv, withDropout(mask)), n, t);
    }

    /**
     * One decoding step of self-attention: x (N, 1, E) is the newest position; its keys and values join the cache and
     * its query attends to every cached position, this one included (the causal mask of a full forward, for the last
     * row). Costs one projection and one pass over the cached keys.
     */
    public Tensor step(Tensor x, KvCache cache) {
        require(Kind.SELF, "step");
        checkInput("x", x);
        if (x.dim(1) != 1) throw new IllegalArgumentException("MultiHeadAttention.step: one position at a time, got " + x);
        int n = x.dim(0);
        Tensor packed = qkv.forward(x).view(n, 1, 3, heads, headDim);
        cache.append(Ops.narrow(packed, 2, 1, 2));
        Tensor query = Ops.narrow(packed, 2, 0, 1).view(n, 1, heads, headDim);
        int[] lengths = new int[n];
        Arrays.fill(lengths, cache.length());
        Tensor keyLengths = Tensor.ofInts(x.device(), lengths, n);
        return project(Ops.crossAttention(query, cache.keysValues(), AttentionOptions.none().keyLengths(keyLengths)), n, 1);
    }

    private Tensor project(Tensor attended, int n, int t) {
        return out.forward(attended.view(n, t, dModel));
    }

    private AttentionOptions withDropout(AttentionOptions mask) {
        AttentionOptions o = mask == null ? AttentionOptions.none() : mask;
        return isTraining() && dropout > 0f ? o.dropout(dropout, generator) : o;
    }

    private void require(Kind wanted, String method) {
        if (kind != wanted) throw new IllegalStateException("MultiHeadAttention(" + kind + "): " + method + " needs a " + wanted + " attention");
    }

    private void checkInput(String arg, Tensor x) {
        if (x == null || x.isClosed() || x.rank() != 3 || x.dim(2) != dModel) {
            throw new IllegalArgumentException("MultiHeadAttention: " + arg + " must be (N, T, " + dModel + "), got " + x);
        }
    }

    @Override
    public String toString() {
        return "MultiHeadAttention(" + kind + ", " + dModel + ", heads=" + heads + ")";
    }
}

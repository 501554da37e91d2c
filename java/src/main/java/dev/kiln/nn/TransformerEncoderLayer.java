package dev.kiln.nn;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.ops.AttentionOptions;

/**
 * A pre-norm Transformer block with self-attention only (Xiong et al. 2020: the norm inside each residual branch,
 * which trains without a learning-rate warm-up):
 * <pre>  x = x + dropout(selfAttention(norm1(x), mask));  x = x + dropout(feedForward(norm2(x)))</pre>
 * An encoder layer takes a padding mask; under a causal mask it is a decoder-only (GPT-style) block, which can also
 * decode one position at a time from a {@link KvCache}.
 */
public final class TransformerEncoderLayer extends Module {
    private final LayerNorm norm1;
    private final MultiHeadAttention selfAttention;
    private final LayerNorm norm2;
    private final FeedForward feedForward;
    private final Dropout dropout;

    /**
     * E = {@code dModel} split over {@code heads}, feed-forward width {@code hidden}, {@code dropout} on the attention
     * weights and on each residual branch; {@code g} initializes the weights and draws the masks.
     */
    public TransformerEncoderLayer(int dModel, int heads, int hidden, float dropout, Device device, Generator g) {
        norm1 = registerModule("norm1", new LayerNorm(dModel, device));
        selfAttention = registerModule("self_attn", new MultiHeadAttention(MultiHeadAttention.Kind.SELF, dModel, heads, dropout, device, g));
        norm2 = registerModule("norm2", new LayerNorm(dModel, device));
        feedForward = registerModule("ff", new FeedForward(dModel, hidden, device, g));
        this.dropout = registerModule("dropout", new Dropout(dropout, g));
    }

    /** The self-attention ("self_attn"). */
    public MultiHeadAttention selfAttention() {
        return selfAttention;
    }

    /** x (N, T, E) -> (N, T, E). */
    public Tensor forward(Tensor x, AttentionOptions mask) {
        x = x.add(dropout.forward(selfAttention.forward(norm1.forward(x), mask)));
        return x.add(dropout.forward(feedForward.forward(norm2.forward(x))));
    }

    /** One causal decoding step: x (N, 1, E), the cache holding this layer's earlier positions. */
    public Tensor step(Tensor x, KvCache cache) {
        x = x.add(selfAttention.step(norm1.forward(x), cache));
        return x.add(feedForward.forward(norm2.forward(x)));
    }
}

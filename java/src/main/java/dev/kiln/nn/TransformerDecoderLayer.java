package dev.kiln.nn;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.ops.AttentionOptions;

/**
 * A pre-norm Transformer decoder block: causal self-attention, cross-attention to the encoder's output, feed-forward,
 * each inside a residual branch with its own norm:
 * <pre>  x = x + dropout(selfAttention(norm1(x), causal))
 *  x = x + dropout(crossAttention(norm2(x), memory, memoryMask))
 *  x = x + dropout(feedForward(norm3(x)))</pre>
 * {@link #step} decodes one position from a {@link KvCache} and the memory's projected keys and values.
 */
public final class TransformerDecoderLayer extends Module {
    private final LayerNorm norm1;
    private final MultiHeadAttention selfAttention;
    private final LayerNorm norm2;
    private final MultiHeadAttention crossAttention;
    private final LayerNorm norm3;
    private final FeedForward feedForward;
    private final Dropout dropout;

    /**
     * E = {@code dModel} split over {@code heads}, feed-forward width {@code hidden}, {@code dropout} on the attention
     * weights and on each residual branch; {@code g} initializes the weights and draws the masks.
     */
    public TransformerDecoderLayer(int dModel, int heads, int hidden, float dropout, Device device, Generator g) {
        norm1 = registerModule("norm1", new LayerNorm(dModel, device));
        selfAttention = registerModule("self_attn", new MultiHeadAttention(MultiHeadAttention.Kind.SELF, dModel, heads, dropout, device, g));
        norm2 = registerModule("norm2", new LayerNorm(dModel, device));
        crossAttention = registerModule("cross_attn", new MultiHeadAttention(MultiHeadAttention.Kind.CROSS, dModel, heads, dropout, device, g));
        norm3 = registerModule("norm3", new LayerNorm(dModel, device));
        feedForward = registerModule("ff", new FeedForward(dModel, hidden, device, g));
        this.dropout = registerModule("dropout", new Dropout(dropout, g));
    }

    /** The causal self-attention ("self_attn"). */
    public MultiHeadAttention selfAttention() {
        return selfAttention;
    }

    /** The cross-attention to the memory ("cross_attn"). */
    public MultiHeadAttention crossAttention() {
        return crossAttention;
    }

    /** x (N, T, E) attends causally to itself and, under memoryMask (key lengths), to memory (N, S, E). */
    public Tensor forward(Tensor x, Tensor memory, AttentionOptions memoryMask) {
        x = x.add(dropout.forward(selfAttention.forward(norm1.forward(x), AttentionOptions.none().causal())));
        x = x.add(dropout.forward(crossAttention.forward(norm2.forward(x), memory, memoryMask)));
        return x.add(dropout.forward(feedForward.forward(norm3.forward(x))));
    }

    /** One decoding step: x (N, 1, E); memoryKv from {@link MultiHeadAttention#projectMemory} of this layer. */
    public Tensor step(Tensor x, KvCache cache, Tensor memoryKv, AttentionOptions memoryMask) {
        x = x.add(selfAttention.step(norm1.forward(x), cache));
        x = x.add(crossAttention.attendMemory(norm2.forward(x), memoryKv, memoryMask));
        return x.add(feedForward.forward(norm3.forward(x)));
    }
}

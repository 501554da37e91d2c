package dev.kiln.nn;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.ops.AttentionOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The Transformer's stacks on embedded sequences (embeddings, positions and the output head belong to the model):
 * an encoder of pre-norm self-attention layers and a decoder of layers with causal self-attention and cross-attention
 * to the encoder's output, each stack closed by a layer norm (what pre-norm needs, since its residual stream is never
 * normalized otherwise). With no encoder layers it is decoder-only: causal self-attention layers without memory.
 *
 * <p>Decoding one position at a time goes through {@link #startDecoding}: every self-attention layer keeps a
 * {@link KvCache} and every cross-attention layer projects the memory once, so step t costs O(t), not O(t^2).
 */
public final class Transformer extends Module {
    private final int dModel;
    private final int heads;
    private final ModuleList<TransformerEncoderLayer> encoder;        // encoder layers, or the decoder-only stack
    private final LayerNorm encoderNorm;
    private final ModuleList<TransformerDecoderLayer> decoder;        // null when decoder-only
    private final LayerNorm decoderNorm;

    /**
     * @param encoderLayers 0 for a decoder-only model, whose {@code decoderLayers} are then causal self-attention blocks
     */
    public Transformer(int dModel, int heads, int hidden, int encoderLayers, int decoderLayers, float dropout,
                       Device device, Generator g) {
        if (encoderLayers < 0 || decoderLayers <= 0) {
            throw new IllegalArgumentException("Transformer: needs encoderLayers >= 0 and decoderLayers >= 1, got "
                    + encoderLayers + " and " + decoderLayers);
        }
        this.dModel = dModel;
        this.heads = heads;
        if (encoderLayers > 0) {
            encoder = registerModule("encoder", new ModuleList<>(layers(encoderLayers,
                    i -> new TransformerEncoderLayer(dModel, heads, hidden, dropout, device, g))));
            encoderNorm = registerModule("encoder_norm", new LayerNorm(dModel, device));
            decoder = registerModule("decoder", new ModuleList<>(layers(decoderLayers,
                    i -> new TransformerDecoderLayer(dModel, heads, hidden, dropout, device, g))));
        } else {
            encoder = registerModule("decoder", new ModuleList<>(layers(decoderLayers,
                    i -> new TransformerEncoderLayer(dModel, heads, hidden, dropout, device, g))));
            encoderNorm = null;
            decoder = null;
        }
        decoderNorm = registerModule("decoder_norm", new LayerNorm(dModel, device));
    }

    private static <M> List<M> layers(int count, IntFunction<M> make) {
        List<M> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) out.add(make.apply(i));
        return out;
    }

    /** Whether this model has no encoder (built with {@code encoderLayers} 0). */
    public boolean isDecoderOnly() {
        return decoder == null;
    }

    /** The model width E. */
    public int dModel() {
        return dModel;
    }

    /** The encoder's output for src (N, S, E), each sequence's keys cut at srcLengths (int32 (N), or null: all S). */
    public Tensor encode(Tensor src, Tensor srcLengths) {
        requireEncoder("encode");
        AttentionOptions mask = padding(srcLengths);
        Tensor x = src;
        for (TransformerEncoderLayer layer : encoder.asList()) x = layer.forward(x, mask);
        return encoderNorm.forward(x);
    }

    /**
     * The decoder's output for tgt (N, T, E), causal, attending to memory (N, S, E) cut at memoryLengths; for a
     * decoder-only model memory and memoryLengths must be null.
     */
    public Tensor decode(Tensor tgt, Tensor memory, Tensor memoryLengths) {
        Tensor x = tgt;
        if (decoder == null) {
            if (memory != null) throw new IllegalArgumentException("Transformer: a decoder-only model takes no memory");
            AttentionOptions causal = AttentionOptions.none().causal();
            for (TransformerEncoderLayer layer : encoder.asList()) x = layer.forward(x, causal);
        } else {
            if (memory == null) throw new IllegalArgumentException("Transformer: the decoder needs the encoder's memory");
            AttentionOptions mask = padding(memoryLengths);
            for (TransformerDecoderLayer layer : decoder.asList()) x = layer.forward(x, memory, mask);
        }
        return decoderNorm.forward(x);
    }

    /**
     * Starts decoding a batch of {@code batch} sequences one position at a time, up to {@code capacity} positions;
     * memory and memoryLengths as for {@link #decode} (null for a decoder-only model). Close the result.
     */
    public Decoding startDecoding(int batch, int capacity, Tensor memory, Tensor memoryLengths) {
        return new Decoding(batch, capacity, memory, memoryLengths);
    }

    private AttentionOptions padding(Tensor lengths) {
        return lengths == null ? AttentionOptions.none() : AttentionOptions.none().keyLengths(lengths);
    }

    private void requireEncoder(String method) {
        if (decoder == null) throw new IllegalStateException("Transformer: " + method + " needs an encoder; this model is decoder-only");
    }

    /** The state of an incremental decode: one key/value cache per self-attention layer, the memory projected once. */
    public final class Decoding implements AutoCloseable {
        private final List<KvCache> caches = new ArrayList<>();
        private final List<Tensor> memoryKv = new ArrayList<>();
        private final AttentionOptions memoryMask;
        private final int batch;

        private Decoding(int batch, int capacity, Tensor memory, Tensor memoryLengths) {
            // The arguments first, and the caches (native memory outside any scope) closed again if anything after
            // their creation fails: a refused call leaves nothing allocated.
            if (decoder != null && memory == null) throw new IllegalArgumentException("Transformer: the decoder needs the encoder's memory");
            if (decoder == null && memory != null) throw new IllegalArgumentException("Transformer: a decoder-only model takes no memory");
            this.batch = batch;
            int headDim = dModel / heads;
            Device device = decoderNorm.parameters().get(0).device();
            int layers = decoder == null ? encoder.size() : decoder.size();
            try {
                for (int i = 0; i < layers; i++) caches.add(new KvCache(device, batch, capacity, heads, headDim));
                memoryMask = padding(memoryLengths);
                if (decoder != null) {
                    for (TransformerDecoderLayer layer : decoder.asList()) memoryKv.add(layer.crossAttention().projectMemory(memory));
                }
            } catch (RuntimeException | Error e) {
                close();
                throw e;
            }
        }

        /** Positions decoded so far. */
        public int position() {
            return caches.get(0).length();
        }

        /** The decoder's output (N, 1, E) for the next position's input x (N, 1, E). */
        public Tensor step(Tensor x) {
            if (x == null || x.rank() != 3 || x.dim(0) != batch || x.dim(1) != 1 || x.dim(2) != dModel) {
                throw new IllegalArgumentException("Transformer.Decoding: step takes (" + batch + ", 1, " + dModel + "), got " + x);
            }
            for (int i = 0; i < caches.size(); i++) {
                x = decoder == null ? encoder.get(i).step(x, caches.get(i))
                        : decoder.get(i).step(x, caches.get(i), memoryKv.get(i), memoryMask);
            }
            return decoderNorm.forward(x);
        }

        @Override
        public void close() {
            for (KvCache c : caches) c.close();
        }
    }
}

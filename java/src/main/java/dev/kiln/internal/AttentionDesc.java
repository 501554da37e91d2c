package dev.kiln.internal;

/**
 * A fused attention call, field for field {@code kiln_attention_desc} in kiln.h: q and o (batch, heads, qLen,
 * headDim), k and v (batch, heads, kvLen, headDim), each at its own element strides {batch, head, token} with headDim
 * contiguous (a packed QKV projection is read in place); the softmax scale; causal masking; and the dropout rate
 * with its Philox stream (seed, offset; ignored when dropout is 0). The table in native/src/jni/jni_attention.cpp
 * maps each component to its C field; the library refuses to load when a name differs. Not public API.
 */
public record AttentionDesc(long batch, long heads, long qLen, long kvLen, long headDim,
                            long qStrideBatch, long qStrideHead, long qStrideToken,
                            long kStrideBatch, long kStrideHead, long kStrideToken,
                            long vStrideBatch, long vStrideHead, long vStrideToken,
                            long oStrideBatch, long oStrideHead, long oStrideToken,
                            float scale, boolean causal, float dropout, long seed, long offset) {
    /** One of the attention's products (Q K^T or P V) counted dense, masks ignored: 2 batch heads qLen kvLen headDim. */
    long matmulFlops() {
        return (long) (2.0 * batch * heads * qLen * kvLen * headDim);
    }

    /** Elements from q's first element to one past its last. */
    long qSpan() {
        return span(qLen, qStrideBatch, qStrideHead, qStrideToken);
    }

    long kSpan() {
        return span(kvLen, kStrideBatch, kStrideHead, kStrideToken);
    }

    long vSpan() {
        return span(kvLen, vStrideBatch, vStrideHead, vStrideToken);
    }

    /** o's span, which dout shares. */
    long oSpan() {
        return span(qLen, oStrideBatch, oStrideHead, oStrideToken);
    }

    /** lse (batch, heads, qLen), contiguous. */
    long lseElements() {
        return Sizes.product(batch, heads, qLen);
    }

    private long span(long len, long strideBatch, long strideHead, long strideToken) {
        return Sizes.strided(batch, strideBatch, Sizes.strided(heads, strideHead, Sizes.strided(len, strideToken, headDim)));
    }
}

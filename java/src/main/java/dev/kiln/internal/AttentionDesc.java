package dev.kiln.internal;

/**
 * A fused attention call's geometry, the integer fields of {@code kiln_attention_desc} in kiln.h: q and o
 * (batch, heads, qLen, headDim), k and v (batch, heads, kvLen, headDim), each at its own element strides
 * {batch, head, token} with headDim contiguous (a packed QKV projection is read in place), and causal (0 or 1). The
 * table in native/src/jni/jni_attention.cpp maps each component to its C field; the library refuses to load when a
 * name differs. The scale, the dropout rate and its Philox stream travel beside it as arguments. Not public API.
 */
public record AttentionDesc(long batch, long heads, long qLen, long kvLen, long headDim,
                            long qStrideBatch, long qStrideHead, long qStrideToken,
                            long kStrideBatch, long kStrideHead, long kStrideToken,
                            long vStrideBatch, long vStrideHead, long vStrideToken,
                            long oStrideBatch, long oStrideHead, long oStrideToken,
                            long causal) {
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

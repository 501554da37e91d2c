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
    /**
     * One of the attention's products (Q K^T or P V) over the query-key pairs the causal mask leaves visible (all of
     * them without it), as FlashAttention and the native benchmarks count: 2 batch heads pairs headDim. Per-batch key
     * lengths are data, not shape, and are not counted.
     */
    long matmulFlops() {
        return (long) (2.0 * batch * heads * visiblePairs() * headDim);
    }

    /** Query-key pairs per (batch, head): query t sees keys s <= t + (kvLen - qLen) when causal (bottom-right aligned). */
    double visiblePairs() {
        if (!causal) return (double) qLen * kvLen;
        // Query t sees t + 1 + d keys (d = kvLen - qLen) where that is positive, which it is from t0 = max(0, -d) on:
        // a run rising by one per query up to the last query's kvLen.
        long d = kvLen - qLen, t0 = Math.max(0, -d), queries = Math.max(0, qLen - t0);
        return queries * (double) (t0 + 1 + d + kvLen) / 2;
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

// The math of fused attention, written once for native/src/cpu/attention.cpp and kernels/attention_{f32,bf16}.cu:
// which keys a query sees, the online-softmax recurrence over key tiles (FlashAttention's, Dao et al. 2022), the
// log-sum-exp kept for the backward, the weights the backward rebuilds from it, and the dropout mask regenerated from
// Philox.
// The backends keep their own drivers (tiling, threads, tensor cores); each element of the math goes through here.
//
// Working in base 2: a score x = q.k is carried as y = x * scale * log2(e), so every exponential is an exp2 (one
// hardware instruction on the GPU, the cheapest polynomial on the CPU). lse is stored in natural log, as torch does.
#pragma once

#include "activations.h"
#include "numerics.h"
#include "philox.h"

#if !defined(__CUDA_ARCH__)
#include <cmath>
#endif

namespace kiln {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

KILN_HD float attn_exp2(float x) {
#if defined(__CUDA_ARCH__)
    return exp2f(x);
#else
    return std::exp2(x);
#endif
}
KILN_HD float attn_log2(float x) {
#if defined(__CUDA_ARCH__)
    return log2f(x);
#else
    return std::log2(x);
#endif
}
KILN_HD float attn_neg_inf() { return kiln_bits_to_float(0xff800000u); }

// ---- the mask ----------------------------------------------------------------------------------------------------
// Both masks leave each query a prefix of the keys: query t sees exactly keys [0, key_end(t)). Padding cuts the
// prefix at the sequence's length; the causal mask (bottom-right aligned) at t + kv_len - q_len + 1. A driver
// therefore loops over key tiles up to the largest key_end of its query tile, and tests s < key_end(t) per element.
struct AttentionMask {
    int64_t q_len, kv_len;
    int64_t kv_valid;  // kv_lengths[b], or kv_len when there are none
    int32_t causal;

    KILN_HD int64_t key_end(int64_t t) const {
        int64_t end = kv_valid < kv_len ? kv_valid : kv_len;
        if (causal) {
            const int64_t diagonal = t + (kv_len - q_len) + 1;
            if (diagonal < end) end = diagonal;
        }
        return end < 0 ? 0 : end;
    }
};

// The first query that sees key s (q_len when none does): key_end(t) > s exactly for t >= this, since key_end never
// decreases with t. A driver that owns a tile of keys starts its query loop at the tile's first key's first query.
KILN_HD int64_t attention_first_query(const AttentionMask& m, int64_t s) {
    const int64_t end = m.kv_valid < m.kv_len ? m.kv_valid : m.kv_len;
    if (s >= end) return m.q_len;
    if (!m.causal) return 0;
    const int64_t t = s - (m.kv_len - m.q_len);  // key_end(t) = t + kv_len - q_len + 1 > s
    return t < 0 ? 0 : t > m.q_len ? m.q_len : t;
}

KILN_HD AttentionMask attention_mask(int64_t q_len, int64_t kv_len, const int32_t* kv_lengths, int64_t b,
                                     int32_t causal) {
    return AttentionMask{q_len, kv_len, kv_lengths ? (int64_t)kv_lengths[b] : kv_len, causal};
}

// ---- the online softmax of one query row ---------------------------------------------------------------------
// State after some key tiles: m = the largest base-2 score seen (-inf before any visible key), l = sum of
// exp2(y - m) over the visible keys seen, and the output accumulator acc = sum of exp2(y - m) v (dropout applied to
// acc only: l normalizes with the un-dropped weights, as softmax-then-dropout does).
struct OnlineSoftmaxRow {
    float m;
    float l;
};

KILN_HD OnlineSoftmaxRow online_softmax_start() { return OnlineSoftmaxRow{attn_neg_inf(), 0.0f}; }

// Enters a tile whose visible base-2 scores have maximum tile_max (-inf if none is visible). Returns the factor by
// which the caller rescales its accumulator; l is rescaled here. Once m is finite, exp2(y - m) <= 1 for every key.
KILN_HD float online_softmax_enter_tile(OnlineSoftmaxRow& row, float tile_max) {
    const float m_new = tile_max > row.m ? tile_max : row.m;
    if (m_new == attn_neg_inf()) return 1.0f;  // nothing visible yet: acc and l are still 0
    const float alpha = row.m == attn_neg_inf() ? 0.0f : attn_exp2(kiln_fadd(row.m, -m_new));
    row.m = m_new;
    row.l = kiln_fmul(row.l, alpha);
    return alpha;
}

// The unnormalized weight of one visible key in the current tile: exp2(y - m). Add it to l; multiply it into acc.
KILN_HD float online_softmax_weight(const OnlineSoftmaxRow& row, float y) { return attn_exp2(kiln_fadd(y, -row.m)); }

// After the last tile: the factor acc is multiplied by for the output (0 for a query that saw no key) and the lse.
KILN_HD float online_softmax_out_scale(const OnlineSoftmaxRow& row) {
    return row.l > 0.0f ? kiln_fdiv(1.0f, row.l) : 0.0f;
}
// The natural-log lse: -inf for a query whose weights sum to 0 (it saw no key, or only -inf scores: output 0), NaN for
// one whose sum is NaN (a NaN or +inf score: output NaN), so that lse says what the output holds. Returning -inf for
// the NaN row, as the test !(l > 0) did, hid it from a caller that merges partial results by lse, and gave it zero
// gradients in the backward where PyTorch gives NaN.
KILN_HD float online_softmax_lse(const OnlineSoftmaxRow& row) {
    if (row.l == 0.0f) return attn_neg_inf();
    if (!(row.l > 0.0f)) return row.l;  // NaN
    return kiln_fmul(kiln_fadd(row.m, attn_log2(row.l)), kLn2);
}

// ---- the backward's weights --------------------------------------------------------------------------------------
// The backward recomputes each weight from the saved lse: p = exp2(y - lse log2(e)), exactly 0 for masked keys and for
// queries with lse = -inf (which saw no key). lse_log2 = lse * log2(e) is computed once per row.
KILN_HD float attention_lse_log2(float lse) { return lse == attn_neg_inf() ? lse : kiln_fmul(lse, kLog2e); }
KILN_HD float attention_weight(float y, float lse_log2) {
    return lse_log2 == attn_neg_inf() ? 0.0f : attn_exp2(kiln_fadd(y, -lse_log2));
}
// The scale a driver multiplies q.k by to get y.
KILN_HD float attention_score_scale_log2(float scale) { return kiln_fmul(scale, kLog2e); }

// Softmax backward through dropout, per weight: with P the softmax weight, Z the dropout factor (0 or 1/(1-p)),
// dP_dropped = dout.v, the score gradient is dS = P (Z dP_dropped - delta), where delta = sum over keys of
// P Z dP_dropped = dout.o (one dot product per query, computed before the key loop). dq, dk take dS times scale.
KILN_HD float attention_score_grad(float p, float dp_dropped, float keep_factor, float delta) {
    return kiln_fmul(p, kiln_fadd(kiln_fmul(keep_factor, dp_dropped), -delta));
}

// ---- dropout on the weights ------------------------------------------------------------------------------------
// The weight (b, h, t, s) is element ((b heads + h) q_len + t) kv_len + s of the (seed, offset) Philox stream, word
// e % 4 of block offset + e / 4, kept when its uniform is >= p (kiln_dropout_f32's rule). keep_factor is 0 or
// 1/(1-p) (dropout_scale). A driver that walks keys in fours along a row can reuse one Philox block for four keys
// only when the row's first element index is a multiple of 4; attention_dropout_factor handles any element.
KILN_HD uint64_t attention_dropout_element(int64_t bh, int64_t t, int64_t s, int64_t q_len, int64_t kv_len) {
    return ((uint64_t)bh * (uint64_t)q_len + (uint64_t)t) * (uint64_t)kv_len + (uint64_t)s;
}
KILN_HD float attention_dropout_factor(uint64_t seed, uint64_t offset, uint64_t element, float p, float keep_scale) {
    const Philox4 block = philox_block(seed, offset + element / 4);
    // The word picked by selects, not by a variable index, which would put the block in the GPU's local memory.
    const uint32_t w = element % 4, word = w == 0 ? block.v[0] : w == 1 ? block.v[1] : w == 2 ? block.v[2] : block.v[3];
    return philox_uniform01(word) >= p ? keep_scale : 0.0f;
}
// The same rule from the element's Philox word (word element % 4 of block offset + element / 4), for a driver that
// draws one block and uses its four words for four consecutive keys of a row.
KILN_HD float attention_dropout_factor_of_word(uint32_t word, float p, float keep_scale) {
    return philox_uniform01(word) >= p ? keep_scale : 0.0f;
}

}  // namespace kiln

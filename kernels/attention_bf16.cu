// Fused attention in bf16 on tensor cores (mma.sync m16n8k16, fp32 accumulation, ldmatrix): the forward, dK/dV and dQ
// kernels, their launchers and the entries kiln::cuda::attention_forward_bf16 / attention_backward_bf16. One of three
// files of the attention family, split to keep each under 600 lines: the bf16 and fp32 paths are independent and share
// only kernels/attention_tiles.cuh (which also states the family's conventions).
// 4 warps of 16 rows each, every tile product on mma fragments; the score accumulators turn into the next product's A
// operand in registers.
#include "attention.h"

#include <cstdint>

#include "attention_tiles.cuh"

namespace kiln::cuda {

namespace {

// ---- bf16 kernels (tensor cores) ---------------------------------------------------------------------------------
// Fragment layouts of mma.m16n8k16 (g = lane / 4, c4 = lane % 4): C element e of a 16 x 8 tile sits at row
// g + 8 (e / 2), column 2 c4 + e % 2; the A fragment of a 16 x 16 tile holds (row g, columns 2 c4, +1), (row g + 8,
// same), (row g, columns + 8), (row g + 8, columns + 8), so the C fragments of two adjacent n-tiles are one A fragment.
// Shared rows are padded by 8 elements (16 bytes): the eight rows an ldmatrix phase reads land in distinct banks.

constexpr int kMmaThreads = 128;  // 4 warps, 16 rows each

using bf16 = kiln_bf16;

// A fragment of rows [16 w, 16 w + 16) and columns [16 kk, 16 kk + 16) of a row-major shared tile.
template <int LD>
__device__ __forceinline__ void load_a(uint32_t (&a)[4], const bf16* tile, int row0, int col0, int lane) {
    ldsm_x4(a, tile + (row0 + (lane & 15)) * LD + col0 + (lane >> 4) * 8);
}
// c[2 p] and c[2 p + 1], the two 16 x 8 n-tiles of columns 16 p .. 16 p + 15, += a (16 x 16) times a 16 x 16 block of
// a row-major shared tile, loaded as B fragments by one ldmatrix: in mma_nk the tile's rows 16 p .. 16 p + 15 are the
// n index and its columns k0 .. k0 + 15 the k index (S = Q K^T with K row-major); in mma_kn its rows k0 .. k0 + 15 are
// the k index and its columns 16 p .. 16 p + 15 the n index (O += P V with V row-major).
template <int LD, int NT>
__device__ __forceinline__ void mma_nk(float (&c)[NT][4], int p, const uint32_t (&a)[4], const bf16* tile, int k0,
                                       int lane) {
    uint32_t b[4];
    ldsm_x4(b, tile + (16 * p + (lane & 7) + ((lane >> 4) << 3)) * LD + k0 + ((lane >> 3) & 1) * 8);
    mma_bf16(c[2 * p], a, b[0], b[1]);
    mma_bf16(c[2 * p + 1], a, b[2], b[3]);
}
template <int LD, int NT>
__device__ __forceinline__ void mma_kn(float (&c)[NT][4], int p, const uint32_t (&a)[4], const bf16* tile, int k0,
                                       int lane) {
    uint32_t b[4];
    ldsm_x4_trans(b, tile + (k0 + (lane & 15)) * LD + 16 * p + (lane >> 4) * 8);
    mma_bf16(c[2 * p], a, b[0], b[1]);
    mma_bf16(c[2 * p + 1], a, b[2], b[3]);
}

// The A fragment of k-step j from the C fragments of n-tiles 2 j and 2 j + 1 (scores turned into weights).
template <int NT>
__device__ __forceinline__ void c_to_a(uint32_t (&a)[4], const float (&c)[NT][4], int j) {
    a[0] = pack_bf16(c[2 * j][0], c[2 * j][1]);
    a[1] = pack_bf16(c[2 * j][2], c[2 * j][3]);
    a[2] = pack_bf16(c[2 * j + 1][0], c[2 * j + 1][1]);
    a[3] = pack_bf16(c[2 * j + 1][2], c[2 * j + 1][3]);
}

template <int NT>
__device__ __forceinline__ void zero_frags(float (&c)[NT][4]) {
#pragma unroll
    for (int n = 0; n < NT; ++n) c[n][0] = c[n][1] = c[n][2] = c[n][3] = 0.0f;
}

// acc (16 x DP) += W B: W (16 x NT * 8) is a score tile's C fragments, rounded to bf16 as A fragments (the weights
// P Z, or dS), and B the NT * 8 x DP row-major shared tile (V, or K).
template <int DP, int LD, int NT>
__device__ __forceinline__ void weights_times(float (&acc)[DP / 8][4], const float (&w)[NT][4], const bf16* b,
                                              int lane) {
#pragma unroll
    for (int kj = 0; kj < NT / 2; ++kj) {
        uint32_t a[4];
        c_to_a(a, w, kj);
#pragma unroll
        for (int dp = 0; dp < DP / 16; ++dp) mma_kn<LD>(acc, dp, a, b, kj * 16, lane);
    }
}

// The two score tiles of a backward pass, assigned: c1 = A1 B1^T and c2 = A2 B2^T over k < DP, where A1 and A2 are the
// warp's 16 rows at row0 of two row-major shared tiles and B1 and B2 the NT * 8 rows of two others. The dK/dV pass
// forms S^T = K Q^T and dP^T = V dO^T with it, the dQ pass S = Q K^T and dP = dO V^T.
template <int DP, int LD, int NT>
__device__ __forceinline__ void score_pair(float (&c1)[NT][4], float (&c2)[NT][4], const bf16* a1, const bf16* a2,
                                           const bf16* b1, const bf16* b2, int row0, int lane) {
    zero_frags(c1);
    zero_frags(c2);
#pragma unroll
    for (int kk = 0; kk < DP / 16; ++kk) {
        uint32_t x1[4], x2[4];
        load_a<LD>(x1, a1, row0, kk * 16, lane);
        load_a<LD>(x2, a2, row0, kk * 16, lane);
#pragma unroll
        for (int np = 0; np < NT / 2; ++np) {
            mma_nk<LD>(c1, np, x1, b1, kk * 16, lane);
            mma_nk<LD>(c2, np, x2, b2, kk * 16, lane);
        }
    }
}

// Max and sum over the 4 lanes of a fragment row (lanes 4 g .. 4 g + 3).
__device__ __forceinline__ float row4_max(float v) {
    v = max_f(v, shfl_xor(v, 1));
    return max_f(v, shfl_xor(v, 2));
}
__device__ __forceinline__ float row4_sum(float v) {
    v += shfl_xor(v, 1);
    return v + shfl_xor(v, 2);
}

template <int DP>
struct MmaFwd {
    static constexpr int BR = 64, BC = 64, LD = DP + 8;
    static constexpr size_t smem = sizeof(bf16) * (size_t)(BR * LD + 4 * BC * LD);
    static_assert(smem <= kMaxTileSmem, "forward tiles past the shared memory every GPU offers");
};

// Forward, bf16: one (batch, head, query tile of 64) per CTA, each warp 16 query rows whose Q fragments stay in
// registers; key tiles of 64.
template <int DP>
__global__ void __launch_bounds__(kMmaThreads) attn_fwd_bf16_kernel(Problem pr, Operand<const bf16> q,
                                                                   Operand<const bf16> k, Operand<const bf16> v,
                                                                   Operand<bf16> o, float* __restrict__ lse) {
    using L = MmaFwd<DP>;
    constexpr int BR = L::BR, BC = L::BC, LD = L::LD, KS = DP / 16, NT = BC / 8, DT = DP / 8;
    bf16* qs = reinterpret_cast<bf16*>(dynamic_smem());
    bf16* ks = qs + BR * LD;
    bf16* vs = ks + 2 * BC * LD;
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, c4 = lane & 3;
    const Block blk = block_of(pr, true);
    const int64_t T = pr.q_len, S = pr.kv_len, q0 = blk.tile * BR;
    const AttentionMask mask = attention_mask(T, S, pr.kv_lengths, blk.b, pr.causal);
    const TileRange keys = key_tiles<BC>(mask, q0, BR, T);

    int64_t kend[2];
    OnlineSoftmaxRow row[2];
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
        kend[hr] = mask.key_end(q0 + warp * 16 + g + 8 * hr);
        row[hr] = online_softmax_start();
    }
    float acc[DT][4];
    zero_frags(acc);
    uint32_t qf[KS][4];
    const bf16* kg = k.at(blk.b, blk.h);
    const bf16* vg = v.at(blk.b, blk.h);

    auto own = [&] { load_rows<bf16, BR, DP, LD, kMmaThreads>(qs, q.at(blk.b, blk.h), q.st, q0, T, pr.d, q.vec); };
    auto stage = [&](int buf, int64_t k0) {
        load_rows<bf16, BC, DP, LD, kMmaThreads>(ks + buf * BC * LD, kg, k.st, k0, keys.limit, pr.d, k.vec);
        load_rows<bf16, BC, DP, LD, kMmaThreads>(vs + buf * BC * LD, vg, v.st, k0, keys.limit, pr.d, v.vec);
    };
    walk_tiles<BC>(keys, own, stage, [&](int buf, int64_t k0) {
        if (k0 == 0) {  // the first tile: the warp's Q fragments, kept in registers for the whole walk
#pragma unroll
            for (int kk = 0; kk < KS; ++kk) load_a<LD>(qf[kk], qs, warp * 16, kk * 16, lane);
        }
        const bf16* kb = ks + buf * BC * LD;
        const bf16* vb = vs + buf * BC * LD;

        float s[NT][4];
        zero_frags(s);
#pragma unroll
        for (int np = 0; np < NT / 2; ++np)
#pragma unroll
            for (int kk = 0; kk < KS; ++kk) mma_nk<LD>(s, np, qf[kk], kb, kk * 16, lane);

#pragma unroll
        for (int hr = 0; hr < 2; ++hr) {
            float tmax = attn_neg_inf();
#pragma unroll
            for (int n = 0; n < NT; ++n)
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                    const bool vis = k0 + n * 8 + c4 * 2 + e < kend[hr];
                    float& y = s[n][2 * hr + e];
                    y = vis ? kiln_fmul(y, pr.scale_log2) : attn_neg_inf();
                    tmax = max_f(tmax, y);
                }
            const float alpha = online_softmax_enter_tile(row[hr], row4_max(tmax));
#pragma unroll
            for (int dt = 0; dt < DT; ++dt) {
                acc[dt][2 * hr] = kiln_fmul(acc[dt][2 * hr], alpha);
                acc[dt][2 * hr + 1] = kiln_fmul(acc[dt][2 * hr + 1], alpha);
            }
            const int64_t t = q0 + warp * 16 + g + 8 * hr;
            float lsum = 0.0f;
#pragma unroll
            for (int n = 0; n < NT; ++n)
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                    const int64_t key = k0 + n * 8 + c4 * 2 + e;
                    const bool vis = key < kend[hr];
                    float& y = s[n][2 * hr + e];
                    const float p = vis ? online_softmax_weight(row[hr], y) : 0.0f;
                    lsum = kiln_fadd(lsum, p);
                    const float z = (vis && pr.dropout > 0.0f) ? dropout_keep(pr, blk.bh, t, key) : 1.0f;
                    y = kiln_fmul(p, z);
                }
            row[hr].l = kiln_fadd(row[hr].l, row4_sum(lsum));
        }

        weights_times<DP, LD>(acc, s, vb, lane);  // O += (P Z) V
    });

    bf16* og = o.at(blk.b, blk.h);
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
        const int64_t t = q0 + warp * 16 + g + 8 * hr;
        if (t >= T) continue;
        const float sc = online_softmax_out_scale(row[hr]);
#pragma unroll
        for (int dt = 0; dt < DT; ++dt)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int dd = dt * 8 + c4 * 2 + e;
                if (dd < pr.d) og[t * o.st + dd] = f32_to_bf16(kiln_fmul(acc[dt][2 * hr + e], sc));
            }
        if (c4 == 0 && lse) lse[blk.bh * T + t] = online_softmax_lse(row[hr]);
    }
}

template <int DP, int BQ>
struct MmaDkDv {
    static constexpr int BK = 64, LD = DP + 8;
    static constexpr size_t smem = sizeof(bf16) * (size_t)(2 * BK * LD + 4 * BQ * LD) + sizeof(float) * 4 * BQ;
    static_assert(smem <= kMaxTileSmem, "dK/dV tiles past the shared memory every GPU offers");
};

// dK and dV, bf16: one (batch, head, key tile of 64) per CTA, each warp 16 keys; the transposed scores S^T = K Q^T
// and dP^T = V dO^T of a query tile of BQ become, in registers, the A operands of dV += (P Z)^T dO and dK += dS^T Q.
template <int DP, int BQ>
__global__ void __launch_bounds__(kMmaThreads) attn_bwd_dkdv_bf16_kernel(
    Problem pr, Operand<const bf16> q, Operand<const bf16> k, Operand<const bf16> v, Operand<const bf16> dout,
    const float* __restrict__ lse, const float* __restrict__ delta, Operand<bf16> dk, Operand<bf16> dv) {
    using L = MmaDkDv<DP, BQ>;
    constexpr int BK = L::BK, LD = L::LD, NT = BQ / 8, DT = DP / 8;
    bf16* ks = reinterpret_cast<bf16*>(dynamic_smem());
    bf16* vs = ks + BK * LD;
    bf16* qs = vs + BK * LD;        // two buffers
    bf16* os = qs + 2 * BQ * LD;    // dout, two buffers
    float* lse2s = reinterpret_cast<float*>(os + 2 * BQ * LD);  // two buffers
    float* dels = lse2s + 2 * BQ;                                // two buffers
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, c4 = lane & 3;
    const Block blk = block_of(pr, false);
    const int64_t T = pr.q_len, S = pr.kv_len, s0 = blk.tile * BK;
    const AttentionMask mask = attention_mask(T, S, pr.kv_lengths, blk.b, pr.causal);
    const TileRange queries = query_tiles<BQ>(mask, s0, T);

    float dka[DT][4], dva[DT][4];
    zero_frags(dka);
    zero_frags(dva);
    const bf16* qg = q.at(blk.b, blk.h);
    const bf16* og = dout.at(blk.b, blk.h);
    const float* lseg = lse + blk.bh * T;
    const float* delg = delta + blk.bh * T;
    auto own = [&] {
        load_rows<bf16, BK, DP, LD, kMmaThreads>(ks, k.at(blk.b, blk.h), k.st, s0, S, pr.d, k.vec);
        load_rows<bf16, BK, DP, LD, kMmaThreads>(vs, v.at(blk.b, blk.h), v.st, s0, S, pr.d, v.vec);
    };
    auto stage = [&](int buf, int64_t t0) {
        load_rows<bf16, BQ, DP, LD, kMmaThreads>(qs + buf * BQ * LD, qg, q.st, t0, T, pr.d, q.vec);
        load_rows<bf16, BQ, DP, LD, kMmaThreads>(os + buf * BQ * LD, og, dout.st, t0, T, pr.d, dout.vec);
        stage_query_terms<BQ>(lse2s, dels, buf, lseg, delg, t0, T);
    };
    walk_tiles<BQ>(queries, own, stage, [&](int buf, int64_t t0) {
        const bf16* qb = qs + buf * BQ * LD;
        const bf16* ob = os + buf * BQ * LD;

        float st[NT][4], dpt[NT][4];
        score_pair<DP, LD>(st, dpt, ks, vs, qb, ob, warp * 16, lane);
#pragma unroll
        for (int n = 0; n < NT; ++n)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int col = n * 8 + c4 * 2 + e;
                const int64_t t = t0 + col;
                const int64_t kend = t < T ? mask.key_end(t) : 0;
                const float lse2 = lse2s[buf * BQ + col], del = dels[buf * BQ + col];
#pragma unroll
                for (int hr = 0; hr < 2; ++hr) {
                    const int64_t key = s0 + warp * 16 + g + 8 * hr;
                    float p = 0.0f, ds = 0.0f, z = 1.0f;
                    if (key < kend) {
                        p = attention_weight(kiln_fmul(st[n][2 * hr + e], pr.scale_log2), lse2);
                        if (pr.dropout > 0.0f) z = dropout_keep(pr, blk.bh, t, key);
                        ds = attention_score_grad(p, dpt[n][2 * hr + e], z, del);
                    }
                    st[n][2 * hr + e] = kiln_fmul(p, z);
                    dpt[n][2 * hr + e] = ds;
                }
            }
#pragma unroll
        for (int kj = 0; kj < BQ / 16; ++kj) {
            uint32_t pa[4], da[4];
            c_to_a(pa, st, kj);
            c_to_a(da, dpt, kj);
#pragma unroll
            for (int dp = 0; dp < DP / 16; ++dp) {
                mma_kn<LD>(dva, dp, pa, ob, kj * 16, lane);
                mma_kn<LD>(dka, dp, da, qb, kj * 16, lane);
            }
        }
    });

    bf16* dkg = dk.p ? dk.at(blk.b, blk.h) : nullptr;
    bf16* dvg = dv.p ? dv.at(blk.b, blk.h) : nullptr;
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
        const int64_t key = s0 + warp * 16 + g + 8 * hr;
        if (key >= S) continue;
#pragma unroll
        for (int dt = 0; dt < DT; ++dt)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int dd = dt * 8 + c4 * 2 + e;
                if (dd >= pr.d) continue;
                if (dkg) dkg[key * dk.st + dd] = f32_to_bf16(kiln_fmul(dka[dt][2 * hr + e], pr.scale));
                if (dvg) dvg[key * dv.st + dd] = f32_to_bf16(dva[dt][2 * hr + e]);
            }
    }
}

template <int DP, int BK>
struct MmaDq {
    static constexpr int BQ = 64, LD = DP + 8;
    static constexpr size_t smem = sizeof(bf16) * (size_t)(2 * BQ * LD + 4 * BK * LD);
    static_assert(smem <= kMaxTileSmem, "dQ tiles past the shared memory every GPU offers");
};

// dQ, bf16: one (batch, head, query tile of 64) per CTA over the key tiles of BK it sees; S = Q K^T and dP = dO V^T
// per warp, dS in registers is the A operand of dQ += dS K.
template <int DP, int BK>
__global__ void __launch_bounds__(kMmaThreads) attn_bwd_dq_bf16_kernel(
    Problem pr, Operand<const bf16> q, Operand<const bf16> k, Operand<const bf16> v, Operand<const bf16> dout,
    const float* __restrict__ lse, const float* __restrict__ delta, Operand<bf16> dq) {
    using L = MmaDq<DP, BK>;
    constexpr int BQ = L::BQ, LD = L::LD, NT = BK / 8, DT = DP / 8;
    bf16* qs = reinterpret_cast<bf16*>(dynamic_smem());
    bf16* os = qs + BQ * LD;
    bf16* ks = os + BQ * LD;      // two buffers
    bf16* vs = ks + 2 * BK * LD;  // two buffers
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, c4 = lane & 3;
    const Block blk = block_of(pr, true);
    const int64_t T = pr.q_len, S = pr.kv_len, q0 = blk.tile * BQ;
    const AttentionMask mask = attention_mask(T, S, pr.kv_lengths, blk.b, pr.causal);
    const TileRange keys = key_tiles<BK>(mask, q0, BQ, T);

    int64_t kend[2];
    float lse2[2], del[2];
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
        const int64_t t = q0 + warp * 16 + g + 8 * hr;
        kend[hr] = t < T ? mask.key_end(t) : 0;
        lse2[hr] = t < T ? attention_lse_log2(lse[blk.bh * T + t]) : attn_neg_inf();
        del[hr] = t < T ? delta[blk.bh * T + t] : 0.0f;
    }
    float acc[DT][4];
    zero_frags(acc);
    const bf16* kg = k.at(blk.b, blk.h);
    const bf16* vg = v.at(blk.b, blk.h);

    auto own = [&] {
        load_rows<bf16, BQ, DP, LD, kMmaThreads>(qs, q.at(blk.b, blk.h), q.st, q0, T, pr.d, q.vec);
        load_rows<bf16, BQ, DP, LD, kMmaThreads>(os, dout.at(blk.b, blk.h), dout.st, q0, T, pr.d, dout.vec);
    };
    auto stage = [&](int buf, int64_t k0) {
        load_rows<bf16, BK, DP, LD, kMmaThreads>(ks + buf * BK * LD, kg, k.st, k0, keys.limit, pr.d, k.vec);
        load_rows<bf16, BK, DP, LD, kMmaThreads>(vs + buf * BK * LD, vg, v.st, k0, keys.limit, pr.d, v.vec);
    };
    walk_tiles<BK>(keys, own, stage, [&](int buf, int64_t k0) {
        const bf16* kb = ks + buf * BK * LD;
        const bf16* vb = vs + buf * BK * LD;

        float s[NT][4], dp[NT][4];
        score_pair<DP, LD>(s, dp, qs, os, kb, vb, warp * 16, lane);
#pragma unroll
        for (int hr = 0; hr < 2; ++hr) {
            const int64_t t = q0 + warp * 16 + g + 8 * hr;
#pragma unroll
            for (int n = 0; n < NT; ++n)
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                    const int64_t key = k0 + n * 8 + c4 * 2 + e;
                    float ds = 0.0f;
                    if (key < kend[hr]) {
                        const float p = attention_weight(kiln_fmul(s[n][2 * hr + e], pr.scale_log2), lse2[hr]);
                        const float z = pr.dropout > 0.0f ? dropout_keep(pr, blk.bh, t, key) : 1.0f;
                        ds = attention_score_grad(p, dp[n][2 * hr + e], z, del[hr]);
                    }
                    s[n][2 * hr + e] = ds;
                }
        }
        weights_times<DP, LD>(acc, s, kb, lane);  // dQ += dS K
    });

    bf16* dqg = dq.at(blk.b, blk.h);
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
        const int64_t t = q0 + warp * 16 + g + 8 * hr;
        if (t >= T) continue;
#pragma unroll
        for (int dt = 0; dt < DT; ++dt)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int dd = dt * 8 + c4 * 2 + e;
                if (dd < pr.d) dqg[t * dq.st + dd] = f32_to_bf16(kiln_fmul(acc[dt][2 * hr + e], pr.scale));
            }
    }
}

// ---- host launchers ----------------------------------------------------------------------------------------------

// bf16 tiles: the query tile of the dK/dV pass and the key tile of the dQ pass (64, or 32 at head_dim 128 where the
// accumulators of dK and dV take most registers).
template <int DP>
struct MmaShape {
    static constexpr int kv_bq = DP == 128 ? 32 : 64, dq_bk = DP == 128 ? 32 : 64;
};

template <int DP>
cudaError_t forward_bf16(cudaStream_t s, const kiln_attention_desc& d, const bf16* q, const bf16* k, const bf16* v,
                         const int32_t* kv_lengths, bf16* o, float* lse) {
    using L = MmaFwd<DP>;
    Problem pr = problem(d, kv_lengths);
    pr.tiles = ceil_div(d.q_len, L::BR);
    return launch(attn_fwd_bf16_kernel<DP>, d.batch * d.heads * pr.tiles, kMmaThreads, L::smem, s, pr,
                  operand(q, d.q_stride), operand(k, d.k_stride), operand(v, d.v_stride), operand(o, d.o_stride), lse);
}

template <int DP>
cudaError_t backward_bf16(cudaStream_t s, Scratch& scratch, const kiln_attention_desc& d, const bf16* q,
                          const bf16* k, const bf16* v, const bf16* o, const bf16* dout, const float* lse,
                          const int32_t* kv_lengths, bf16* dq, bf16* dk, bf16* dv) {
    using Sh = MmaShape<DP>;
    float* delta = nullptr;
    cudaError_t e = backward_delta(s, scratch, d, o, dout, &delta);
    if (e != cudaSuccess) return e;
    const auto qo = operand(q, d.q_stride), ko = operand(k, d.k_stride), vo = operand(v, d.v_stride);
    const auto doo = operand(dout, d.o_stride);
    if (dk || dv) {
        using L = MmaDkDv<DP, Sh::kv_bq>;
        Problem pr = problem(d, kv_lengths);
        pr.tiles = ceil_div(d.kv_len, L::BK);
        e = launch(attn_bwd_dkdv_bf16_kernel<DP, Sh::kv_bq>, d.batch * d.heads * pr.tiles, kMmaThreads, L::smem, s,
                   pr, qo, ko, vo, doo, lse, (const float*)delta, operand(dk, d.k_stride), operand(dv, d.v_stride));
        if (e != cudaSuccess) return e;
    }
    if (dq) {
        using L = MmaDq<DP, Sh::dq_bk>;
        Problem pr = problem(d, kv_lengths);
        pr.tiles = ceil_div(d.q_len, L::BQ);
        e = launch(attn_bwd_dq_bf16_kernel<DP, Sh::dq_bk>, d.batch * d.heads * pr.tiles, kMmaThreads, L::smem, s, pr,
                   qo, ko, vo, doo, lse, (const float*)delta, operand(dq, d.q_stride));
    }
    return e;
}

}  // namespace

cudaError_t attention_forward_bf16(cudaStream_t s, const kiln_attention_desc& d, const kiln_bf16* q,
                                   const kiln_bf16* k, const kiln_bf16* v, const int32_t* kv_lengths, kiln_bf16* o,
                                   float* lse) {
    if (empty(d)) return cudaSuccess;
    switch (padded_dim(d.head_dim)) {
        case 32: return forward_bf16<32>(s, d, q, k, v, kv_lengths, o, lse);
        case 64: return forward_bf16<64>(s, d, q, k, v, kv_lengths, o, lse);
        default: return forward_bf16<128>(s, d, q, k, v, kv_lengths, o, lse);
    }
}

cudaError_t attention_backward_bf16(cudaStream_t s, Scratch& scratch, const kiln_attention_desc& d,
                                    const kiln_bf16* q, const kiln_bf16* k, const kiln_bf16* v, const kiln_bf16* o,
                                    const kiln_bf16* dout, const float* lse, const int32_t* kv_lengths, kiln_bf16* dq,
                                    kiln_bf16* dk, kiln_bf16* dv) {
    if (empty(d) || (!dq && !dk && !dv)) return cudaSuccess;
    switch (padded_dim(d.head_dim)) {
        case 32: return backward_bf16<32>(s, scratch, d, q, k, v, o, dout, lse, kv_lengths, dq, dk, dv);
        case 64: return backward_bf16<64>(s, scratch, d, q, k, v, o, dout, lse, kv_lengths, dq, dk, dv);
        default: return backward_bf16<128>(s, scratch, d, q, k, v, o, dout, lse, kv_lengths, dq, dk, dv);
    }
}

}  // namespace kiln::cuda

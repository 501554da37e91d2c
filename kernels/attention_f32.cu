// Fused attention in fp32 on CUDA cores: the forward, dK/dV and dQ kernels, their launchers and the entries
// kiln::cuda::attention_forward_f32 / attention_backward_f32. One of three files of the attention family, split to keep
// each under 600 lines: the fp32 and bf16 paths are independent and share only kernels/attention_tiles.cuh (which also
// states the family's conventions).
// 256 threads as a 16 x 16 grid; thread (ty, tx) owns rows ty + 16 i and columns tx + 16 j of each tile product, so
// the 16 threads of a row are one half-warp (row reductions are shuffles, the weights a row writes to shared memory are
// read back by the same half-warp after a __syncwarp).
#include "attention.h"

#include <cstdint>

#include "attention_tiles.cuh"

namespace kiln::cuda {

namespace {

// ---- fp32 kernels (CUDA cores) -----------------------------------------------------------------------------------

constexpr int kF32Threads = 256;

// acc[i][j] += sum over k < K of A[ty + 16 i][k] B[tx + 16 j][k]: both operands row-major along k (dot products).
template <int MI, int NJ, int K, int LDA, int LDB>
__device__ __forceinline__ void mm_dot(float (&acc)[MI][NJ], const float* A, const float* B, int ty, int tx) {
    const float* a0 = A + ty * LDA;
    const float* b0 = B + tx * LDB;
#pragma unroll 2
    for (int k = 0; k < K; k += 4) {
        float4 a[MI], b[NJ];
#pragma unroll
        for (int i = 0; i < MI; ++i) a[i] = *reinterpret_cast<const float4*>(a0 + 16 * i * LDA + k);
#pragma unroll
        for (int j = 0; j < NJ; ++j) b[j] = *reinterpret_cast<const float4*>(b0 + 16 * j * LDB + k);
#pragma unroll
        for (int i = 0; i < MI; ++i)
#pragma unroll
            for (int j = 0; j < NJ; ++j) {
                acc[i][j] = fmaf(a[i].x, b[j].x, acc[i][j]);
                acc[i][j] = fmaf(a[i].y, b[j].y, acc[i][j]);
                acc[i][j] = fmaf(a[i].z, b[j].z, acc[i][j]);
                acc[i][j] = fmaf(a[i].w, b[j].w, acc[i][j]);
            }
    }
}

// acc[i][c] += sum over k < K of A[ty + 16 i][k] B[k][tx + 16 c]: A row-major along k, B row-major along c.
template <int MI, int NC, int K, int LDA, int LDB>
__device__ __forceinline__ void mm_nn(float (&acc)[MI][NC], const float* A, const float* B, int ty, int tx) {
    const float* a0 = A + ty * LDA;
    const float* b0 = B + tx;
#pragma unroll 2
    for (int k = 0; k < K; k += 4) {
        float4 a[MI];
#pragma unroll
        for (int i = 0; i < MI; ++i) a[i] = *reinterpret_cast<const float4*>(a0 + 16 * i * LDA + k);
#pragma unroll
        for (int u = 0; u < 4; ++u) {
            float b[NC];
#pragma unroll
            for (int c = 0; c < NC; ++c) b[c] = b0[(k + u) * LDB + 16 * c];
#pragma unroll
            for (int i = 0; i < MI; ++i) {
                const float av = u == 0 ? a[i].x : u == 1 ? a[i].y : u == 2 ? a[i].z : a[i].w;
#pragma unroll
                for (int c = 0; c < NC; ++c) acc[i][c] = fmaf(av, b[c], acc[i][c]);
            }
        }
    }
}

// The two score tiles of a backward pass, assigned: c1 = A1 B1^T and c2 = A2 B2^T over k < DP, all four operands
// row-major shared tiles of row stride LD. The dK/dV pass forms S^T = K Q^T and dP^T = V dO^T with it, the dQ pass
// S = Q K^T and dP = dO V^T.
template <int DP, int LD, int MI, int NJ>
__device__ __forceinline__ void score_pair(float (&c1)[MI][NJ], float (&c2)[MI][NJ], const float* a1, const float* a2,
                                           const float* b1, const float* b2, int ty, int tx) {
#pragma unroll
    for (int i = 0; i < MI; ++i)
#pragma unroll
        for (int c = 0; c < NJ; ++c) c1[i][c] = c2[i][c] = 0.0f;
    mm_dot<MI, NJ, DP, LD, LD>(c1, a1, b1, ty, tx);
    mm_dot<MI, NJ, DP, LD, LD>(c2, a2, b2, ty, tx);
}

// Max and sum over the 16 threads of a row (one half-warp); every one of them gets the same bits.
__device__ __forceinline__ float row16_max(float v) {
#pragma unroll
    for (int o = 1; o < 16; o <<= 1) v = max_f(v, shfl_xor(v, o));
    return v;
}
__device__ __forceinline__ float row16_sum(float v) {
#pragma unroll
    for (int o = 1; o < 16; o <<= 1) v += shfl_xor(v, o);
    return v;
}

// Shared-memory tiles of the fp32 kernels: rows padded by 4 floats, which keeps float4 alignment and spreads the rows
// a quarter-warp reads over all 32 banks.
template <int DP, int MI, int NJ>
struct F32Fwd {
    static constexpr int BR = 16 * MI, BC = 16 * NJ, LD = DP + 4, LDP = BC + 4;
    static constexpr size_t smem = sizeof(float) * (size_t)(BR * LD + 4 * BC * LD + BR * LDP);
    static_assert(smem <= kMaxTileSmem, "forward tiles past the shared memory every GPU offers");
};

// Forward, one (batch, head, query tile of BR rows) per CTA; key tiles of BC.
template <int DP, int MI, int NJ>
__global__ void __launch_bounds__(kF32Threads, 1) attn_fwd_f32_kernel(Problem pr, Operand<const float> q,
                                                                  Operand<const float> k, Operand<const float> v,
                                                                  Operand<float> o, float* __restrict__ lse) {
    using L = F32Fwd<DP, MI, NJ>;
    constexpr int BR = L::BR, BC = L::BC, LD = L::LD, LDP = L::LDP, NC = DP / 16;
    float* qs = reinterpret_cast<float*>(dynamic_smem());
    float* ks = qs + BR * LD;  // two buffers
    float* vs = ks + 2 * BC * LD;
    float* ps = vs + 2 * BC * LD;
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    const Block blk = block_of(pr, true);
    const int64_t T = pr.q_len, S = pr.kv_len, q0 = blk.tile * BR;
    const AttentionMask mask = attention_mask(T, S, pr.kv_lengths, blk.b, pr.causal);
    const TileRange keys = key_tiles<BC>(mask, q0, BR, T);

    int64_t kend[MI];
    OnlineSoftmaxRow row[MI];
    float acc[MI][NC];
#pragma unroll
    for (int i = 0; i < MI; ++i) {
        kend[i] = mask.key_end(q0 + ty + 16 * i);
        row[i] = online_softmax_start();
#pragma unroll
        for (int c = 0; c < NC; ++c) acc[i][c] = 0.0f;
    }
    const float* qg = q.at(blk.b, blk.h);
    const float* kg = k.at(blk.b, blk.h);
    const float* vg = v.at(blk.b, blk.h);

    auto own = [&] { load_rows<float, BR, DP, LD, kF32Threads>(qs, qg, q.st, q0, T, pr.d, q.vec); };
    auto stage = [&](int buf, int64_t k0) {
        load_rows<float, BC, DP, LD, kF32Threads>(ks + buf * BC * LD, kg, k.st, k0, keys.limit, pr.d, k.vec);
        load_rows<float, BC, DP, LD, kF32Threads>(vs + buf * BC * LD, vg, v.st, k0, keys.limit, pr.d, v.vec);
    };
    walk_tiles<BC>(keys, own, stage, [&](int buf, int64_t k0) {
        const float* kb = ks + buf * BC * LD;
        const float* vb = vs + buf * BC * LD;

        float s[MI][NJ];
#pragma unroll
        for (int i = 0; i < MI; ++i)
#pragma unroll
            for (int c = 0; c < NJ; ++c) s[i][c] = 0.0f;
        mm_dot<MI, NJ, DP, LD, LD>(s, qs, kb, ty, tx);

#pragma unroll
        for (int i = 0; i < MI; ++i) {
            float tmax = attn_neg_inf();
#pragma unroll
            for (int c = 0; c < NJ; ++c) {
                const bool vis = k0 + tx + 16 * c < kend[i];
                s[i][c] = vis ? kiln_fmul(s[i][c], pr.scale_log2) : attn_neg_inf();
                tmax = max_f(tmax, s[i][c]);
            }
            const float alpha = online_softmax_enter_tile(row[i], row16_max(tmax));
#pragma unroll
            for (int c = 0; c < NC; ++c) acc[i][c] = kiln_fmul(acc[i][c], alpha);
            float lsum = 0.0f;
            const int64_t t = q0 + ty + 16 * i;
#pragma unroll
            for (int c = 0; c < NJ; ++c) {
                const int64_t key = k0 + tx + 16 * c;
                const bool vis = key < kend[i];
                const float p = vis ? online_softmax_weight(row[i], s[i][c]) : 0.0f;
                lsum = kiln_fadd(lsum, p);
                const float z = (vis && pr.dropout > 0.0f) ? dropout_keep(pr, blk.bh, t, key) : 1.0f;
                ps[(ty + 16 * i) * LDP + tx + 16 * c] = kiln_fmul(p, z);
            }
            row[i].l = kiln_fadd(row[i].l, row16_sum(lsum));
        }
        __syncwarp();  // a row's weights were written by its own half-warp
        mm_nn<MI, NC, BC, LDP, LD>(acc, ps, vb, ty, tx);
    });

    float* og = o.at(blk.b, blk.h);
#pragma unroll
    for (int i = 0; i < MI; ++i) {
        const int64_t t = q0 + ty + 16 * i;
        if (t >= T) continue;
        const float sc = online_softmax_out_scale(row[i]);
#pragma unroll
        for (int c = 0; c < NC; ++c) {
            const int dd = tx + 16 * c;
            if (dd < pr.d) og[t * o.st + dd] = kiln_fmul(acc[i][c], sc);
        }
        if (tx == 0 && lse) lse[blk.bh * T + t] = online_softmax_lse(row[i]);
    }
}

template <int DP, int MI, int NJ>
struct F32DkDv {
    static constexpr int BK = 16 * MI, BQ = 16 * NJ, LD = DP + 4, LDP = BQ + 4;
    static constexpr size_t smem =
        sizeof(float) * (size_t)(2 * BK * LD + 4 * BQ * LD + 2 * BK * LDP + 4 * BQ);
    static_assert(smem <= kMaxTileSmem, "dK/dV tiles past the shared memory every GPU offers");
};

// dK and dV of one (batch, head, key tile of BK keys) per CTA, over the query tiles of BQ that see any of its keys:
// scores and weights are built transposed (rows are keys), so dV += (P Z)^T dO and dK += dS^T Q are row products.
template <int DP, int MI, int NJ>
__global__ void __launch_bounds__(kF32Threads, 1) attn_bwd_dkdv_f32_kernel(
    Problem pr, Operand<const float> q, Operand<const float> k, Operand<const float> v, Operand<const float> dout,
    const float* __restrict__ lse, const float* __restrict__ delta, Operand<float> dk, Operand<float> dv) {
    using L = F32DkDv<DP, MI, NJ>;
    constexpr int BK = L::BK, BQ = L::BQ, LD = L::LD, LDP = L::LDP, NC = DP / 16;
    float* ks = reinterpret_cast<float*>(dynamic_smem());
    float* vs = ks + BK * LD;
    float* qs = vs + BK * LD;   // two buffers
    float* os = qs + 2 * BQ * LD;  // dout, two buffers
    float* pts = os + 2 * BQ * LD;  // (P Z)^T
    float* dsts = pts + BK * LDP;   // dS^T
    float* lse2s = dsts + BK * LDP;  // lse log2(e) of the tile's queries, two buffers
    float* dels = lse2s + 2 * BQ;    // delta, two buffers
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    const Block blk = block_of(pr, false);
    const int64_t T = pr.q_len, S = pr.kv_len, s0 = blk.tile * BK;
    const AttentionMask mask = attention_mask(T, S, pr.kv_lengths, blk.b, pr.causal);
    const TileRange queries = query_tiles<BQ>(mask, s0, T);

    float dka[MI][NC], dva[MI][NC];
#pragma unroll
    for (int i = 0; i < MI; ++i)
#pragma unroll
        for (int c = 0; c < NC; ++c) dka[i][c] = dva[i][c] = 0.0f;
    const float* qg = q.at(blk.b, blk.h);
    const float* og = dout.at(blk.b, blk.h);
    const float* lseg = lse + blk.bh * T;
    const float* delg = delta + blk.bh * T;
    auto own = [&] {
        load_rows<float, BK, DP, LD, kF32Threads>(ks, k.at(blk.b, blk.h), k.st, s0, S, pr.d, k.vec);
        load_rows<float, BK, DP, LD, kF32Threads>(vs, v.at(blk.b, blk.h), v.st, s0, S, pr.d, v.vec);
    };
    auto stage = [&](int buf, int64_t t0) {
        load_rows<float, BQ, DP, LD, kF32Threads>(qs + buf * BQ * LD, qg, q.st, t0, T, pr.d, q.vec);
        load_rows<float, BQ, DP, LD, kF32Threads>(os + buf * BQ * LD, og, dout.st, t0, T, pr.d, dout.vec);
        stage_query_terms<BQ>(lse2s, dels, buf, lseg, delg, t0, T);
    };
    walk_tiles<BQ>(queries, own, stage, [&](int buf, int64_t t0) {
        const float* qb = qs + buf * BQ * LD;
        const float* ob = os + buf * BQ * LD;

        float st[MI][NJ], dpt[MI][NJ];
        score_pair<DP, LD>(st, dpt, ks, vs, qb, ob, ty, tx);
#pragma unroll
        for (int c = 0; c < NJ; ++c) {
            const int col = tx + 16 * c;
            const int64_t t = t0 + col;
            const int64_t kend = t < T ? mask.key_end(t) : 0;
            const float lse2 = lse2s[buf * BQ + col], del = dels[buf * BQ + col];
#pragma unroll
            for (int i = 0; i < MI; ++i) {
                const int64_t key = s0 + ty + 16 * i;
                const bool vis = key < kend;
                float p = 0.0f, ds = 0.0f, z = 1.0f;
                if (vis) {
                    p = attention_weight(kiln_fmul(st[i][c], pr.scale_log2), lse2);
                    if (pr.dropout > 0.0f) z = dropout_keep(pr, blk.bh, t, key);
                    ds = attention_score_grad(p, dpt[i][c], z, del);
                }
                pts[(ty + 16 * i) * LDP + col] = kiln_fmul(p, z);
                dsts[(ty + 16 * i) * LDP + col] = ds;
            }
        }
        __syncwarp();  // a key row's weights were written by its own half-warp
        mm_nn<MI, NC, BQ, LDP, LD>(dva, pts, ob, ty, tx);
        mm_nn<MI, NC, BQ, LDP, LD>(dka, dsts, qb, ty, tx);
    });

    float* dkg = dk.p ? dk.at(blk.b, blk.h) : nullptr;
    float* dvg = dv.p ? dv.at(blk.b, blk.h) : nullptr;
#pragma unroll
    for (int i = 0; i < MI; ++i) {
        const int64_t key = s0 + ty + 16 * i;
        if (key >= S) continue;
#pragma unroll
        for (int c = 0; c < NC; ++c) {
            const int dd = tx + 16 * c;
            if (dd >= pr.d) continue;
            if (dkg) dkg[key * dk.st + dd] = kiln_fmul(dka[i][c], pr.scale);
            if (dvg) dvg[key * dv.st + dd] = dva[i][c];
        }
    }
}

template <int DP, int MI, int NJ>
struct F32Dq {
    static constexpr int BQ = 16 * MI, BK = 16 * NJ, LD = DP + 4, LDP = BK + 4;
    static constexpr size_t smem = sizeof(float) * (size_t)(2 * BQ * LD + 4 * BK * LD + BQ * LDP);
    static_assert(smem <= kMaxTileSmem, "dQ tiles past the shared memory every GPU offers");
};

// dQ of one (batch, head, query tile of BQ rows) per CTA over the key tiles it sees: dQ += dS K.
template <int DP, int MI, int NJ>
__global__ void __launch_bounds__(kF32Threads, 1) attn_bwd_dq_f32_kernel(
    Problem pr, Operand<const float> q, Operand<const float> k, Operand<const float> v, Operand<const float> dout,
    const float* __restrict__ lse, const float* __restrict__ delta, Operand<float> dq) {
    using L = F32Dq<DP, MI, NJ>;
    constexpr int BQ = L::BQ, BK = L::BK, LD = L::LD, LDP = L::LDP, NC = DP / 16;
    float* qs = reinterpret_cast<float*>(dynamic_smem());
    float* os = qs + BQ * LD;
    float* ks = os + BQ * LD;      // two buffers
    float* vs = ks + 2 * BK * LD;  // two buffers
    float* dss = vs + 2 * BK * LD;
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    const Block blk = block_of(pr, true);
    const int64_t T = pr.q_len, S = pr.kv_len, q0 = blk.tile * BQ;
    const AttentionMask mask = attention_mask(T, S, pr.kv_lengths, blk.b, pr.causal);
    const TileRange keys = key_tiles<BK>(mask, q0, BQ, T);

    int64_t kend[MI];
    float lse2[MI], del[MI], acc[MI][NC];
#pragma unroll
    for (int i = 0; i < MI; ++i) {
        const int64_t t = q0 + ty + 16 * i;
        kend[i] = t < T ? mask.key_end(t) : 0;
        lse2[i] = t < T ? attention_lse_log2(lse[blk.bh * T + t]) : attn_neg_inf();
        del[i] = t < T ? delta[blk.bh * T + t] : 0.0f;
#pragma unroll
        for (int c = 0; c < NC; ++c) acc[i][c] = 0.0f;
    }
    const float* kg = k.at(blk.b, blk.h);
    const float* vg = v.at(blk.b, blk.h);

    auto own = [&] {
        load_rows<float, BQ, DP, LD, kF32Threads>(qs, q.at(blk.b, blk.h), q.st, q0, T, pr.d, q.vec);
        load_rows<float, BQ, DP, LD, kF32Threads>(os, dout.at(blk.b, blk.h), dout.st, q0, T, pr.d, dout.vec);
    };
    auto stage = [&](int buf, int64_t k0) {
        load_rows<float, BK, DP, LD, kF32Threads>(ks + buf * BK * LD, kg, k.st, k0, keys.limit, pr.d, k.vec);
        load_rows<float, BK, DP, LD, kF32Threads>(vs + buf * BK * LD, vg, v.st, k0, keys.limit, pr.d, v.vec);
    };
    walk_tiles<BK>(keys, own, stage, [&](int buf, int64_t k0) {
        const float* kb = ks + buf * BK * LD;
        const float* vb = vs + buf * BK * LD;

        float s[MI][NJ], dp[MI][NJ];
        score_pair<DP, LD>(s, dp, qs, os, kb, vb, ty, tx);
#pragma unroll
        for (int i = 0; i < MI; ++i) {
            const int64_t t = q0 + ty + 16 * i;
#pragma unroll
            for (int c = 0; c < NJ; ++c) {
                const int64_t key = k0 + tx + 16 * c;
                float ds = 0.0f;
                if (key < kend[i]) {
                    const float p = attention_weight(kiln_fmul(s[i][c], pr.scale_log2), lse2[i]);
                    const float z = pr.dropout > 0.0f ? dropout_keep(pr, blk.bh, t, key) : 1.0f;
                    ds = attention_score_grad(p, dp[i][c], z, del[i]);
                }
                dss[(ty + 16 * i) * LDP + tx + 16 * c] = ds;
            }
        }
        __syncwarp();
        mm_nn<MI, NC, BK, LDP, LD>(acc, dss, kb, ty, tx);
    });

    float* dqg = dq.at(blk.b, blk.h);
#pragma unroll
    for (int i = 0; i < MI; ++i) {
        const int64_t t = q0 + ty + 16 * i;
        if (t >= T) continue;
#pragma unroll
        for (int c = 0; c < NC; ++c) {
            const int dd = tx + 16 * c;
            if (dd < pr.d) dqg[t * dq.st + dd] = kiln_fmul(acc[i][c], pr.scale);
        }
    }
}

// ---- host launchers ----------------------------------------------------------------------------------------------

// fp32 tile shapes (MI, NJ: 16-row and 16-column blocks per CTA) per head_dim template, chosen so the shared tiles
// fit kMaxTileSmem (99 KiB: sm_86/sm_89) and leave room for two CTAs per SM on sm_90.
template <int DP>
struct F32Shape;
template <>
struct F32Shape<32> {
    static constexpr int fwd_mi = 4, fwd_nj = 4, kv_mi = 4, kv_nj = 4, dq_mi = 4, dq_nj = 4;
};
template <>
struct F32Shape<64> {
    static constexpr int fwd_mi = 4, fwd_nj = 2, kv_mi = 4, kv_nj = 2, dq_mi = 4, dq_nj = 2;
};
template <>
struct F32Shape<128> {
    static constexpr int fwd_mi = 2, fwd_nj = 2, kv_mi = 2, kv_nj = 1, dq_mi = 2, dq_nj = 1;
};

template <int DP>
cudaError_t forward_f32(cudaStream_t s, const kiln_attention_desc& d, const float* q, const float* k, const float* v,
                        const int32_t* kv_lengths, float* o, float* lse) {
    constexpr int MI = F32Shape<DP>::fwd_mi, NJ = F32Shape<DP>::fwd_nj;
    using L = F32Fwd<DP, MI, NJ>;
    Problem pr = problem(d, kv_lengths);
    pr.tiles = ceil_div(d.q_len, L::BR);
    return launch(attn_fwd_f32_kernel<DP, MI, NJ>, d.batch * d.heads * pr.tiles, kF32Threads, L::smem, s, pr,
                  operand(q, d.q_stride), operand(k, d.k_stride), operand(v, d.v_stride), operand(o, d.o_stride), lse);
}

template <int DP>
cudaError_t backward_f32(cudaStream_t s, Scratch& scratch, const kiln_attention_desc& d, const float* q,
                         const float* k, const float* v, const float* o, const float* dout, const float* lse,
                         const int32_t* kv_lengths, float* dq, float* dk, float* dv) {
    using Sh = F32Shape<DP>;
    float* delta = nullptr;
    cudaError_t e = backward_delta(s, scratch, d, o, dout, &delta);
    if (e != cudaSuccess) return e;
    const auto qo = operand(q, d.q_stride), ko = operand(k, d.k_stride), vo = operand(v, d.v_stride);
    const auto doo = operand(dout, d.o_stride);
    if (dk || dv) {
        using L = F32DkDv<DP, Sh::kv_mi, Sh::kv_nj>;
        Problem pr = problem(d, kv_lengths);
        pr.tiles = ceil_div(d.kv_len, L::BK);
        e = launch(attn_bwd_dkdv_f32_kernel<DP, Sh::kv_mi, Sh::kv_nj>, d.batch * d.heads * pr.tiles, kF32Threads,
                   L::smem, s, pr, qo, ko, vo, doo, lse, (const float*)delta, operand(dk, d.k_stride),
                   operand(dv, d.v_stride));
        if (e != cudaSuccess) return e;
    }
    if (dq) {
        using L = F32Dq<DP, Sh::dq_mi, Sh::dq_nj>;
        Problem pr = problem(d, kv_lengths);
        pr.tiles = ceil_div(d.q_len, L::BQ);
        e = launch(attn_bwd_dq_f32_kernel<DP, Sh::dq_mi, Sh::dq_nj>, d.batch * d.heads * pr.tiles, kF32Threads,
                   L::smem, s, pr, qo, ko, vo, doo, lse, (const float*)delta, operand(dq, d.q_stride));
    }
    return e;
}

}  // namespace

cudaError_t attention_forward_f32(cudaStream_t s, const kiln_attention_desc& d, const float* q, const float* k,
                                  const float* v, const int32_t* kv_lengths, float* o, float* lse) {
    if (empty(d)) return cudaSuccess;
    switch (padded_dim(d.head_dim)) {
        case 32: return forward_f32<32>(s, d, q, k, v, kv_lengths, o, lse);
        case 64: return forward_f32<64>(s, d, q, k, v, kv_lengths, o, lse);
        default: return forward_f32<128>(s, d, q, k, v, kv_lengths, o, lse);
    }
}

cudaError_t attention_backward_f32(cudaStream_t s, Scratch& scratch, const kiln_attention_desc& d, const float* q,
                                   const float* k, const float* v, const float* o, const float* dout, const float* lse,
                                   const int32_t* kv_lengths, float* dq, float* dk, float* dv) {
    if (empty(d) || (!dq && !dk && !dv)) return cudaSuccess;
    switch (padded_dim(d.head_dim)) {
        case 32: return backward_f32<32>(s, scratch, d, q, k, v, o, dout, lse, kv_lengths, dq, dk, dv);
        case 64: return backward_f32<64>(s, scratch, d, q, k, v, o, dout, lse, kv_lengths, dq, dk, dv);
        default: return backward_f32<128>(s, scratch, d, q, k, v, o, dout, lse, kv_lengths, dq, dk, dv);
    }
}

}  // namespace kiln::cuda

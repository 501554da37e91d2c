// Internals of the CPU attention shared by its files (attention.cpp, attention_avx2.cpp, attention_avx512.cpp): the
// flash-style tile driver, one text instantiated per ISA with that ISA's vector traits, and the scalar helpers it calls.
//
// The tiles are transposed: a score tile holds keys in rows and queries in vector lanes, S^T (keys, queries) = K Q^T.
// Every per-query quantity of the online softmax (running max, sum, lse, delta) is then a lane of a vector, so the
// softmax needs no horizontal reduction; K, V, dout and Q are read in place at their strides as broadcasts or rows
// along head_dim, and only Q^T and dout^T are packed (once per query tile). All six matrix products are one
// register-blocked kernel, C (m, n) (+)= A (m, k) B (k, n), with A broadcast from any strides and B, C rows along n.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <utility>

#include "kiln/kiln.h"

namespace kiln::cpu::attention_detail {

constexpr int kQueryTile = 64;  // queries per tile: the lanes of a score tile (4 AVX-512 vectors)
constexpr int kKeyTile = 64;    // keys per tile: the rows of a score tile

// The validated call, as the tiles read it. Strides as in kiln_attention_desc; a gradient has its operand's strides.
struct Problem {
    kiln_attention_desc d;
    const float *q, *k, *v;
    const int32_t* kv_lengths;
    float* o;          // forward: out (o strides)
    float* lse;        // forward: out, may be null; backward: unused
    const float* o_in;  // backward: the forward's o
    const float* dout;  // backward: (o strides)
    const float* lse_in;
    float *dq, *dk, *dv;      // backward outputs, each may be null
    float score_scale_log2;   // scale log2(e): q.k times this is the base-2 score
    float keep_scale;         // 1 / (1 - dropout)
    bool dropout;             // dropout > 0
};

// One ISA's work items. forward_tile: query tile `tile` of head `bh` = b heads + h; backward_head: all of head bh (the
// head's dk, dv sums then have one owner and a fixed order). `scratch` holds *_scratch_floats(head_dim) floats,
// 64-byte aligned.
struct Kernels {
    const char* isa;
    void (*forward_tile)(const Problem& p, int64_t bh, int64_t tile, float* scratch);
    void (*backward_head)(const Problem& p, int64_t bh, float* scratch);
};
const Kernels& avx512_kernels();    // attention_avx512.cpp; only where isa() found AVX-512
const Kernels& avx2_kernels();      // attention_avx2.cpp; only where the CPU has AVX2 and FMA
const Kernels& portable_kernels();  // attention.cpp; every machine
// The best kernel set this CPU runs (what the C ABI uses), and whether the AVX2 set may run here.
const Kernels& best_kernels();
bool avx2_available();

int64_t forward_scratch_floats(int64_t head_dim);
int64_t backward_scratch_floats(int64_t head_dim);

// The fp32 entries with an explicit kernel set, for the tests (every ISA this CPU has): the contract of
// kiln::cpu::attention_{forward,backward}_f32.
void forward_using(const Kernels& ks, const kiln_attention_desc& d, const float* q, const float* k, const float* v,
                   const int32_t* kv_lengths, float* o, float* lse);
void backward_using(const Kernels& ks, const kiln_attention_desc& d, const float* q, const float* k, const float* v,
                    const float* o, const float* dout, const float* lse, const int32_t* kv_lengths, float* dq,
                    float* dk, float* dv);

// ---- scalar helpers (attention.cpp, built for the baseline ISA) ------------------------------------------------------
// The driver template calls only these, its vector traits and plain arithmetic: an inline function of a shared
// header, emitted by the AVX-512 file, could be the copy the linker keeps for the baseline path too.

// kend[i] = the key prefix query t0 + i sees (AttentionMask::key_end), i < nq; non-decreasing in i.
void key_ends(const Problem& p, int64_t b, int64_t t0, int nq, int64_t* kend);
// The dropout stream's element of weight (bh, t, s) (attention_dropout_element), and the factors (0 or keep_scale) of
// the n consecutive elements from e0, one Philox block per four (attention_dropout_factor_of_word).
uint64_t dropout_element(const Problem& p, int64_t bh, int64_t t, int64_t s);
void dropout_run(const Problem& p, uint64_t e0, int n, float* out);
// The end of the forward for nq queries from their running max m and sum l: out_scale (0 for a query that saw no key)
// and, when lse_row is not null, the lse (online_softmax_out_scale, online_softmax_lse).
void finish_queries(const float* m, const float* l, int nq, float* out_scale, float* lse_row);
// The backward's per-query inputs of query tile t0 of head bh: lse2 = lse log2(e), or +inf where lse is -inf (a query
// that saw no key: exp2(y - inf) = 0 then rebuilds weights of 0) and for the padding lanes i >= nq; delta = dout . o.
void backward_query_stats(const Problem& p, int64_t bh, int64_t t0, int nq, float* lse2, float* delta);

// ---- the tiles, per ISA ---------------------------------------------------------------------------------------------
// V: reg, mask, W (floats per vector; kQueryTile is a multiple), kRegisters (vector registers of the ISA, which size
// the register tile), zero(), set1(x), load(p), store(p, r), bcast(p),
// first(n) (the lanes < n, 1 <= n <= W), load_masked(p, m) (0 elsewhere, nothing read there), store_masked(p, r, m),
// fma(a, b, c) = a b + c, mul, add, sub, max, exp2(x) (2^x, 0 for -inf; accurate to a few ulp for x <= 0),
// set_prefix(r, n, x) (lanes < n become x, 0 <= n <= W), replace_neg_inf(r, x) (lanes equal to -inf become x),
// transpose_block(src, lds, rows, cols, dst, ldd, lanes): dst[c ldd + r] = src[r lds + c] for c < cols (<= W), r < lanes
// (<= W), reading only rows r < rows (<= W; the lanes rows.. of dst get 0) and their first cols floats, and
// dropout_run(p, e0, n, out), dropout_run's contract (the scalar helper, or the same factors computed wider).
// V must have internal linkage in its file, so that each ISA's instantiation is distinct.
template <class V>
struct Tiles {
    using reg = typename V::reg;
    using mask = typename V::mask;
    static constexpr int W = V::W;
    static constexpr int QV = kQueryTile / W;  // vectors per score row

    // ---- C (m, n) (+)= A (m, kk) B (kk, n) -------------------------------------------------------------------------
    // A(i, k) = a[i ars + k acs], broadcast; B row k at b + k ldb and C row i at c + i ldc, n floats each. Register tile
    // of MR rows by NV vectors (the last one masked to n), NV loads and MR broadcasts feeding MR NV fused multiply-adds
    // per step of k. With 32 registers (AVX-512): 24 accumulators at NV = 4 or 3, 24 or 12 below; with 16 (AVX2, and
    // the scalar path): 12 accumulators at NV = 2 or 1. The blocking never changes a sum's order: every accumulator
    // runs over all of k, in order.
    static constexpr int kMaxNV = V::kRegisters >= 32 ? 4 : 2;
    static constexpr int mr_for(int nv) {
        return V::kRegisters >= 32 ? (nv == 4 ? 6 : nv == 3 ? 8 : 12) : (nv == 2 ? 6 : 12);
    }

    template <int MR, int NV>
    static void micro(int64_t kk, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb, float* c,
                      int64_t ldc, mask last, bool accumulate) {
        reg acc[MR][NV];
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
            for (int j = 0; j < NV; ++j)
                acc[i][j] = !accumulate           ? V::zero()
                            : j + 1 < NV ? V::load(c + i * ldc + j * W)
                                         : V::load_masked(c + i * ldc + j * W, last);
        const float* rows[MR];
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) rows[i] = a + i * ars;
        for (int64_t k = 0; k < kk; ++k, b += ldb) {
            reg bv[NV];
#pragma GCC unroll 4
            for (int j = 0; j < NV; ++j) bv[j] = j + 1 < NV ? V::load(b + j * W) : V::load_masked(b + j * W, last);
            const int64_t ak = k * acs;
#pragma GCC unroll 16
            for (int i = 0; i < MR; ++i) {
                const reg av = V::bcast(rows[i] + ak);
#pragma GCC unroll 4
                for (int j = 0; j < NV; ++j) acc[i][j] = V::fma(av, bv[j], acc[i][j]);
            }
        }
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
            for (int j = 0; j < NV; ++j) {
                if (j + 1 < NV) V::store(c + i * ldc + j * W, acc[i][j]);
                else V::store_masked(c + i * ldc + j * W, acc[i][j], last);
            }
    }

    using MicroFn = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t, mask,
                             bool);

    // The ragged last rows of a column block: one instantiation per row count below MR.
    template <int NV, size_t... R>
    static MicroFn short_rows(int rows, std::index_sequence<R...>) {
        static constexpr MicroFn table[] = {&micro<int(R) + 1, NV>...};
        return table[rows - 1];
    }

    template <int NV>
    static void column_block(int64_t m, int64_t kk, const float* a, int64_t ars, int64_t acs, const float* b,
                             int64_t ldb, float* c, int64_t ldc, mask last, bool accumulate) {
        constexpr int MR = mr_for(NV);
        int64_t i = 0;
        for (; i + MR <= m; i += MR)
            micro<MR, NV>(kk, a + i * ars, ars, acs, b, ldb, c + i * ldc, ldc, last, accumulate);
        if (i < m)
            short_rows<NV>((int)(m - i), std::make_index_sequence<MR - 1>())(kk, a + i * ars, ars, acs, b, ldb,
                                                                              c + i * ldc, ldc, last, accumulate);
    }

    static void gemm(int64_t m, int64_t n, int64_t kk, const float* a, int64_t ars, int64_t acs, const float* b,
                     int64_t ldb, float* c, int64_t ldc, bool accumulate) {
        for (int64_t n0 = 0; n0 < n; n0 += kMaxNV * W) {
            const int64_t cols = n - n0 < kMaxNV * W ? n - n0 : kMaxNV * W;
            const int nv = (int)((cols + W - 1) / W);
            const mask last = V::first((int)(cols - (nv - 1) * W));
            if constexpr (kMaxNV == 4) {
                switch (nv) {
                    case 1: column_block<1>(m, kk, a, ars, acs, b + n0, ldb, c + n0, ldc, last, accumulate); break;
                    case 2: column_block<2>(m, kk, a, ars, acs, b + n0, ldb, c + n0, ldc, last, accumulate); break;
                    case 3: column_block<3>(m, kk, a, ars, acs, b + n0, ldb, c + n0, ldc, last, accumulate); break;
                    default: column_block<4>(m, kk, a, ars, acs, b + n0, ldb, c + n0, ldc, last, accumulate); break;
                }
            } else {
                if (nv == 1) column_block<1>(m, kk, a, ars, acs, b + n0, ldb, c + n0, ldc, last, accumulate);
                else column_block<2>(m, kk, a, ars, acs, b + n0, ldb, c + n0, ldc, last, accumulate);
            }
        }
    }

    // ---- pieces of a tile ------------------------------------------------------------------------------------------

    // dst (head_dim, kQueryTile) = scale * rows^T for nq rows `ld` apart; lanes nq.. are 0.
    static void pack_transposed(const float* rows, int64_t ld, int nq, int64_t head_dim, float scale, float* dst) {
        for (int r0 = 0; r0 < kQueryTile; r0 += W) {
            const int n = nq - r0 < 0 ? 0 : nq - r0 < W ? nq - r0 : W;
            const float* src = n > 0 ? rows + r0 * ld : rows;  // rows past the tile are not read
            for (int64_t c0 = 0; c0 < head_dim; c0 += W)
                V::transpose_block(src + c0, ld, n, (int)(head_dim - c0 < W ? head_dim - c0 : W),
                                   dst + c0 * kQueryTile + r0, kQueryTile, W);
        }
        if (scale == 1.0f) return;
        const reg vs = V::set1(scale);
        for (int64_t e = 0; e < head_dim * kQueryTile; e += W) V::store(dst + e, V::mul(V::load(dst + e), vs));
    }

    // Rows of `out` (nq queries, `ld` apart, head_dim floats each) = the transposed accumulator at (head_dim,
    // kQueryTile) times each query's out_scale (kQueryTile lanes, 0 past nq); the accumulator is scaled in place.
    static void store_transposed(float* acc, const float* out_scale, int nq, int64_t head_dim, float* out, int64_t ld) {
        for (int64_t e = 0; e < head_dim; ++e)
            for (int u = 0; u < QV; ++u) {
                float* row = acc + e * kQueryTile + u * W;
                V::store(row, V::mul(V::load(row), V::load(out_scale + u * W)));
            }
        for (int q0 = 0; q0 < nq; q0 += W) {
            const int cols = nq - q0 < W ? nq - q0 : W;
            for (int64_t e0 = 0; e0 < head_dim; e0 += W) {
                const int rows = (int)(head_dim - e0 < W ? head_dim - e0 : W);
                V::transpose_block(acc + e0 * kQueryTile + q0, kQueryTile, rows, cols, out + q0 * ld + e0, ld, rows);
            }
        }
    }

    // Row j of the score tile s (keys j0 + j) hides the lanes of the queries whose key prefix ends at or before that
    // key: a prefix of the lanes, since key ends grow with the query. They become -inf, whose weight is 0.
    static void mask_scores(const int64_t* kend, int nq, int64_t j0, int nk, float* s) {
        const float neg_inf = -__builtin_inff();
        int cut = 0;
        for (int j = 0; j < nk; ++j) {
            while (cut < nq && kend[cut] <= j0 + j) ++cut;
            if (cut == 0) continue;
            float* row = s + j * kQueryTile;
            for (int v = 0; v * W < cut; ++v) {
                const int n = cut - v * W < W ? cut - v * W : W;
                V::store(row + v * W, V::set_prefix(V::load(row + v * W), n, neg_inf));
            }
        }
    }

    // z (nk, kQueryTile) = the dropout factors of weights (bh, t0 + i, j0 + j), 0 in the padding lanes i >= nq: drawn
    // along each query's keys (consecutive elements of the stream) into rows (nq, kKeyTile), then transposed.
    static void dropout_tile(const Problem& p, int64_t bh, int64_t t0, int nq, int64_t j0, int nk, float* rows,
                             float* z) {
        for (int i = 0; i < nq; ++i) V::dropout_run(p, dropout_element(p, bh, t0 + i, j0), nk, rows + i * kKeyTile);
        for (int r0 = 0; r0 < kQueryTile; r0 += W) {
            const int n = nq - r0 < 0 ? 0 : nq - r0 < W ? nq - r0 : W;
            for (int c0 = 0; c0 < nk; c0 += W)
                V::transpose_block(rows + (n > 0 ? r0 * kKeyTile : 0) + c0, kKeyTile, n, nk - c0 < W ? nk - c0 : W,
                                   z + c0 * kQueryTile + r0, kQueryTile, W);
        }
    }

    // ---- forward: one query tile -------------------------------------------------------------------------------------
    static void forward_tile(const Problem& p, int64_t bh, int64_t tile, float* scratch) {
        const kiln_attention_desc& d = p.d;
        const int64_t b = bh / d.heads, h = bh % d.heads, D = d.head_dim;
        const int64_t t0 = tile * kQueryTile;
        const int nq = (int)(d.q_len - t0 < kQueryTile ? d.q_len - t0 : kQueryTile);
        const float* q = p.q + b * d.q_stride[0] + h * d.q_stride[1] + t0 * d.q_stride[2];
        const float* k = p.k + b * d.k_stride[0] + h * d.k_stride[1];
        const float* v = p.v + b * d.v_stride[0] + h * d.v_stride[1];
        float* o = p.o + b * d.o_stride[0] + h * d.o_stride[1] + t0 * d.o_stride[2];
        float* lse = p.lse ? p.lse + bh * d.q_len + t0 : nullptr;

        alignas(64) int64_t kend[kQueryTile];
        key_ends(p, b, t0, nq, kend);
        const int64_t kend_first = kend[0], kend_last = kend[nq - 1];

        float* qt = scratch;                        // (D, kQueryTile): Q^T in base-2 score units
        float* ot = qt + D * kQueryTile;            // (D, kQueryTile): the output accumulator, transposed
        float* s = ot + D * kQueryTile;             // (kKeyTile, kQueryTile): scores, then weights
        float* z = s + kKeyTile * kQueryTile;       // (kKeyTile, kQueryTile): dropout factors
        float* m = z + kKeyTile * kQueryTile;       // (kQueryTile): running max
        float* l = m + kQueryTile;                  // (kQueryTile): running sum
        float* z_rows = l + kQueryTile;             // (kQueryTile, kKeyTile): dropout factors along each query's keys
        pack_transposed(q, d.q_stride[2], nq, D, p.score_scale_log2, qt);
        for (int64_t e = 0; e < D * kQueryTile; e += W) V::store(ot + e, V::zero());
        for (int i = 0; i < kQueryTile; i += W) V::store(m + i, V::set1(-__builtin_inff())), V::store(l + i, V::zero());

        for (int64_t j0 = 0; j0 < kend_last; j0 += kKeyTile) {
            const int nk = (int)(kend_last - j0 < kKeyTile ? kend_last - j0 : kKeyTile);
            // s (nk, kQueryTile) = K rows j0.. (nk, D) . Q^T (D, kQueryTile)
            gemm(nk, kQueryTile, D, k + j0 * d.k_stride[2], d.k_stride[2], 1, qt, kQueryTile, s, kQueryTile, false);
            if (j0 + nk > kend_first) mask_scores(kend, nq, j0, nk, s);
            for (int u = 0; u < QV; ++u) {
                reg tile_max = V::set1(-__builtin_inff());
                for (int j = 0; j < nk; ++j) tile_max = V::max(tile_max, V::load(s + j * kQueryTile + u * W));
                // online_softmax_enter_tile per lane; a lane with nothing visible yet subtracts +inf: weights 0.
                const reg m_old = V::load(m + u * W);
                const reg m_new = V::max(m_old, tile_max);
                const reg m_sub = V::replace_neg_inf(m_new, __builtin_inff());
                const reg alpha = V::exp2(V::sub(m_old, m_sub));
                for (int64_t e = 0; e < D; ++e) {
                    float* row = ot + e * kQueryTile + u * W;
                    V::store(row, V::mul(V::load(row), alpha));
                }
                reg sum = V::zero();
                for (int j = 0; j < nk; ++j) {
                    float* row = s + j * kQueryTile + u * W;
                    const reg w = V::exp2(V::sub(V::load(row), m_sub));  // online_softmax_weight
                    sum = V::add(sum, w);
                    V::store(row, w);
                }
                V::store(l + u * W, V::add(V::mul(V::load(l + u * W), alpha), sum));
                V::store(m + u * W, m_new);
            }
            if (p.dropout) {  // l keeps the undropped weights: softmax, then dropout
                dropout_tile(p, bh, t0, nq, j0, nk, z_rows, z);
                for (int j = 0; j < nk; ++j)
                    for (int u = 0; u < QV; ++u) {
                        float* row = s + j * kQueryTile + u * W;
                        V::store(row, V::mul(V::load(row), V::load(z + j * kQueryTile + u * W)));
                    }
            }
            // O^T (D, kQueryTile) += V^T (D, nk) . P (nk, kQueryTile): A(e, j) = v[(j0 + j) token stride + e]
            gemm(D, kQueryTile, nk, v + j0 * d.v_stride[2], 1, d.v_stride[2], s, kQueryTile, ot, kQueryTile, true);
        }

        alignas(64) float out_scale[kQueryTile] = {};
        finish_queries(m, l, nq, out_scale, lse);
        store_transposed(ot, out_scale, nq, D, o, d.o_stride[2]);
    }

    // ---- backward: one head ----------------------------------------------------------------------------------------
    // FlashAttention-2's recomputation, query tiles outer: per (query tile, key tile) the weights are rebuilt from lse,
    // dS = P (Z dP - delta) with dP = dout V^T, then dV += (P Z)^T dout and dK += dS^T Q go straight into the head's dv,
    // dk rows (zeroed first) and dQ += dS K into a tile buffer stored when its key loop ends.
    static void backward_head(const Problem& p, int64_t bh, float* scratch) {
        const kiln_attention_desc& d = p.d;
        const int64_t b = bh / d.heads, h = bh % d.heads, D = d.head_dim;
        const int64_t ld_dq = (D + 15) / 16 * 16;
        const float* q = p.q + b * d.q_stride[0] + h * d.q_stride[1];
        const float* k = p.k + b * d.k_stride[0] + h * d.k_stride[1];
        const float* v = p.v + b * d.v_stride[0] + h * d.v_stride[1];
        const float* dout = p.dout + b * d.o_stride[0] + h * d.o_stride[1];
        float* dq = p.dq ? p.dq + b * d.q_stride[0] + h * d.q_stride[1] : nullptr;
        float* dk = p.dk ? p.dk + b * d.k_stride[0] + h * d.k_stride[1] : nullptr;
        float* dv = p.dv ? p.dv + b * d.v_stride[0] + h * d.v_stride[1] : nullptr;
        const float scale = d.scale;

        float* qt = scratch;                          // (D, kQueryTile): Q^T in base-2 score units
        float* dot = qt + D * kQueryTile;             // (D, kQueryTile): dout^T
        float* s = dot + D * kQueryTile;              // (kKeyTile, kQueryTile): scores, weights, dropped weights
        float* ds = s + kKeyTile * kQueryTile;        // (kKeyTile, kQueryTile): dP, then dS scale
        float* z = ds + kKeyTile * kQueryTile;        // (kKeyTile, kQueryTile): dropout factors
        float* dqt = z + kKeyTile * kQueryTile;       // (kQueryTile, ld_dq): dQ of the tile
        float* lse2 = dqt + kQueryTile * ld_dq;       // (kQueryTile)
        float* delta = lse2 + kQueryTile;             // (kQueryTile)
        float* z_rows = delta + kQueryTile;           // (kQueryTile, kKeyTile): dropout factors along each query's keys

        for (float* g : {dk, dv}) {
            if (!g) continue;
            const int64_t ld = g == dk ? d.k_stride[2] : d.v_stride[2];
            for (int64_t j = 0; j < d.kv_len; ++j)
                for (int64_t e = 0; e < D; ++e) g[j * ld + e] = 0.0f;
        }

        alignas(64) int64_t kend[kQueryTile];
        for (int64_t t0 = 0; t0 < d.q_len; t0 += kQueryTile) {
            const int nq = (int)(d.q_len - t0 < kQueryTile ? d.q_len - t0 : kQueryTile);
            key_ends(p, b, t0, nq, kend);
            const int64_t kend_first = kend[0], kend_last = kend[nq - 1];
            const float* q_rows = q + t0 * d.q_stride[2];
            const float* dout_rows = dout + t0 * d.o_stride[2];
            if (dq)
                for (int64_t e = 0; e < kQueryTile * ld_dq; e += W) V::store(dqt + e, V::zero());
            if (kend_last > 0) {
                pack_transposed(q_rows, d.q_stride[2], nq, D, p.score_scale_log2, qt);
                pack_transposed(dout_rows, d.o_stride[2], nq, D, 1.0f, dot);
                backward_query_stats(p, bh, t0, nq, lse2, delta);
            }
            for (int64_t j0 = 0; j0 < kend_last; j0 += kKeyTile) {
                const int nk = (int)(kend_last - j0 < kKeyTile ? kend_last - j0 : kKeyTile);
                const float* k_rows = k + j0 * d.k_stride[2];
                const float* v_rows = v + j0 * d.v_stride[2];
                gemm(nk, kQueryTile, D, k_rows, d.k_stride[2], 1, qt, kQueryTile, s, kQueryTile, false);
                if (j0 + nk > kend_first) mask_scores(kend, nq, j0, nk, s);
                // dP (nk, kQueryTile) = V rows (nk, D) . dout^T (D, kQueryTile)
                gemm(nk, kQueryTile, D, v_rows, d.v_stride[2], 1, dot, kQueryTile, ds, kQueryTile, false);
                if (p.dropout) dropout_tile(p, bh, t0, nq, j0, nk, z_rows, z);
                const reg vscale = V::set1(scale);
                for (int u = 0; u < QV; ++u) {
                    const reg l2 = V::load(lse2 + u * W), dl = V::load(delta + u * W);
                    for (int j = 0; j < nk; ++j) {
                        float* sp = s + j * kQueryTile + u * W;
                        float* dp = ds + j * kQueryTile + u * W;
                        const reg w = V::exp2(V::sub(V::load(sp), l2));  // attention_weight
                        reg dpv = V::load(dp), wd = w;
                        if (p.dropout) {
                            const reg zf = V::load(z + j * kQueryTile + u * W);
                            dpv = V::mul(zf, dpv);
                            wd = V::mul(w, zf);
                        }
                        V::store(dp, V::mul(V::mul(w, V::sub(dpv, dl)), vscale));  // attention_score_grad, times scale
                        V::store(sp, wd);
                    }
                }
                // dV rows j0.. (nk, D) += (P Z) (nk, nq) . dout rows (nq, D)
                if (dv)
                    gemm(nk, D, nq, s, kQueryTile, 1, dout_rows, d.o_stride[2], dv + j0 * d.v_stride[2], d.v_stride[2],
                         true);
                // dK rows j0.. (nk, D) += dS (nk, nq) . Q rows (nq, D)
                if (dk)
                    gemm(nk, D, nq, ds, kQueryTile, 1, q_rows, d.q_stride[2], dk + j0 * d.k_stride[2], d.k_stride[2],
                         true);
                // dQ tile (nq, D) += dS^T (nq, nk) . K rows (nk, D)
                if (dq) gemm(nq, D, nk, ds, 1, kQueryTile, k_rows, d.k_stride[2], dqt, ld_dq, true);
            }
            if (dq)
                for (int i = 0; i < nq; ++i) {
                    float* row = dq + (t0 + i) * d.q_stride[2];
                    for (int64_t e = 0; e < D; ++e) row[e] = dqt[i * ld_dq + e];
                }
        }
    }
};

}  // namespace kiln::cpu::attention_detail

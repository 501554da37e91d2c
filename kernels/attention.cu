// Fused flash-style attention on the GPU (kiln_attention_*), fp32 on CUDA cores and bf16 on tensor cores
// (mma.sync m16n8k16, fp32 accumulation, ldmatrix), forward and backward. Conventions:
//   - every entry assigns its outputs; the q_len x kv_len scores never reach global memory: the forward keeps lse, the
//     backward rebuilds each weight from it (kernels/common/attention_math.h, the same text as the CPU twin);
//   - a CTA owns one (batch, head, query tile) in the forward and in the dQ pass, one (batch, head, key tile) in the
//     dK/dV pass; it walks the other axis in tiles staged through double-buffered shared memory (cp.async when the
//     operand's rows are 16-byte aligned, plain loads otherwise), and only over tiles some of its rows can see, so a
//     query reading a cache at length L costs O(L);
//   - head_dim is served by the template 32, 64 or 128 at or above it, the columns past head_dim read as zero;
//   - no float atomics: the backward is delta = rowsum(dout o) into scratch, a dK/dV pass and a dQ pass, and each
//     output element is summed by one thread in an order fixed by the shape;
//   - bf16 outputs are rounded once, at the store (kernels/common/bf16.h); the weights P and dS enter the tensor-core
//     products rounded to bf16, as FlashAttention does; lse and delta stay fp32.
// fp32 kernels: 256 threads as a 16 x 16 grid; thread (ty, tx) owns rows ty + 16 i and columns tx + 16 j of each tile
// product, so the 16 threads of a row are one half-warp (row reductions are shuffles, the weights a row writes to
// shared memory are read back by the same half-warp after a __syncwarp). bf16 kernels: 4 warps of 16 rows each, every
// tile product on mma fragments; the score accumulators turn into the next product's A operand in registers.
#include "attention.h"

#include <cstdint>

#include "common/activations.h"
#include "common/attention_math.h"
#include "common/bf16.h"

namespace kiln::cuda {

namespace {

// ---- device primitives -------------------------------------------------------------------------------------------

__device__ __forceinline__ uint32_t smem_u32(const void* p) { return (uint32_t)__cvta_generic_to_shared(p); }

// 16 bytes from global to shared memory, of which the first `bytes` are read and the rest zero-filled (bytes = 0:
// nothing is read, 16 zeros are written). Both addresses are 16-byte aligned.
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_u32(dst)), "l"(src), "r"(bytes)
                 : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// Four 8 x 8 b16 matrices; lanes 8i..8i+7 give the row addresses of matrix i, register i receives it (trans: its
// transpose), lane l holding row l / 4, columns 2 (l % 4) and 2 (l % 4) + 1.
__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_u32(p))
                 : "memory");
}
__device__ __forceinline__ void ldsm_x4_trans(uint32_t (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_u32(p))
                 : "memory");
}

// d (16 x 8, fp32) += a (16 x 16, bf16, row-major fragment) b (16 x 8, bf16, column fragment).
__device__ __forceinline__ void mma_bf16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two floats rounded to bf16 (nearest even) in one register, lo in the low half (the smaller column).
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
    uint32_t r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

__device__ __forceinline__ float shfl_xor(float v, int lane_mask) { return __shfl_xor_sync(0xffffffffu, v, lane_mask); }

__device__ __forceinline__ unsigned char* dynamic_smem() {
    extern __shared__ __align__(16) unsigned char attention_smem[];
    return attention_smem;
}

// ---- end of device primitives ------------------------------------------------------------------------------------

// The element types: fp32, or bf16 kept as its 16 bits (widened on use, rounded once at the store).
template <class T>
struct Io;
template <>
struct Io<float> {
    __device__ static float load(float x) { return x; }
    __device__ static float store(float x) { return x; }
};
template <>
struct Io<kiln_bf16> {
    __device__ static float load(kiln_bf16 x) { return bf16_to_f32(x); }
    __device__ static kiln_bf16 store(float x) { return f32_to_bf16(x); }
};

// One operand (batch, heads, tokens, head_dim) at its element strides. vec: every row starts 16-byte aligned, so tiles
// move by cp.async in 16-byte chunks.
template <class T>
struct Operand {
    T* p;
    int64_t sb, sh, st;
    bool vec;
    __device__ T* at(int64_t b, int64_t h) const { return p + b * sb + h * sh; }
};

struct Problem {
    int64_t batch, heads, q_len, kv_len;
    int d;                   // head_dim
    int64_t tiles;           // tiles per (batch, head) along the CTA's own axis
    float scale, scale_log2;
    int32_t causal;
    float dropout, keep_scale;
    uint64_t seed, offset;
    const int32_t* kv_lengths;
};

// The CTA's (batch, head) and tile. heavy_last: the tile order is reversed so that, under a causal mask, the tiles with
// the most work start first (query tiles: the last ones; key tiles: the first ones, heavy_last = false).
struct Block {
    int64_t b, h, bh, tile;
};
__device__ __forceinline__ Block block_of(const Problem& pr, bool heavy_last) {
    const int64_t x = blockIdx.x, bh = x / pr.tiles, r = x - bh * pr.tiles;
    return Block{bh / pr.heads, bh % pr.heads, bh, heavy_last ? pr.tiles - 1 - r : r};
}

__device__ __forceinline__ float dropout_keep(const Problem& pr, int64_t bh, int64_t t, int64_t s) {
    return attention_dropout_factor(pr.seed, pr.offset, attention_dropout_element(bh, t, s, pr.q_len, pr.kv_len),
                                    pr.dropout, pr.keep_scale);
}

// Rows [row0, row0 + ROWS) of one (batch, head) operand into a shared tile of row stride LD: columns [0, DP), zero
// past d and for rows at or past `limit`. Vectorized: queued as cp.async (the caller commits and waits); otherwise
// plain loads and stores, complete when the caller's next barrier is passed.
template <class T, int ROWS, int DP, int LD, int THREADS>
__device__ __forceinline__ void load_rows(T* dst, const T* src, int64_t stride, int64_t row0, int64_t limit, int d,
                                          bool vec) {
    const int64_t left = limit - row0;
    const int n = left < ROWS ? (int)left : ROWS;
    if (vec) {
        constexpr int E = 16 / (int)sizeof(T), CPR = DP / E;
        for (int c = threadIdx.x; c < ROWS * CPR; c += THREADS) {
            const int r = c / CPR, k = (c - r * CPR) * E;
            const T* s = src;
            int bytes = 0;
            if (r < n && k < d) {
                s = src + (row0 + r) * stride + k;
                bytes = (d - k < E ? d - k : E) * (int)sizeof(T);
            }
            cp_async16(dst + r * LD + k, s, bytes);
        }
    } else {
        for (int e = threadIdx.x; e < ROWS * DP; e += THREADS) {
            const int r = e / DP, k = e - r * DP;
            dst[r * LD + k] = (r < n && k < d) ? src[(row0 + r) * stride + k] : T(0);
        }
    }
}

__device__ __forceinline__ float max_f(float a, float b) { return b > a ? b : a; }

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
    const int64_t last = (q0 + BR < T ? q0 + BR : T) - 1;
    const int ntiles = (int)((mask.key_end(last) + BC - 1) / BC);

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

    if (ntiles > 0) {
        load_rows<float, BR, DP, LD, kF32Threads>(qs, qg, q.st, q0, T, pr.d, q.vec);
        load_rows<float, BC, DP, LD, kF32Threads>(ks, kg, k.st, 0, S, pr.d, k.vec);
        load_rows<float, BC, DP, LD, kF32Threads>(vs, vg, v.st, 0, S, pr.d, v.vec);
        cp_async_commit();
    }
    for (int j = 0; j < ntiles; ++j) {
        const int buf = j & 1;
        const int64_t k0 = (int64_t)j * BC;
        if (j + 1 < ntiles) {  // the next key tile streams in while this one is used
            load_rows<float, BC, DP, LD, kF32Threads>(ks + (buf ^ 1) * BC * LD, kg, k.st, k0 + BC, S, pr.d, k.vec);
            load_rows<float, BC, DP, LD, kF32Threads>(vs + (buf ^ 1) * BC * LD, vg, v.st, k0 + BC, S, pr.d, v.vec);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
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
        __syncthreads();  // buffers buf and ps are rewritten next
    }

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

// delta[(b heads + h) q_len + t] = sum over d of dout o (fp32), one warp per query row in a fixed order.
constexpr int kDeltaThreads = 256;
template <class T>
__global__ void __launch_bounds__(kDeltaThreads) attn_delta_kernel(Problem pr, Operand<const T> o,
                                                                  Operand<const T> dout, float* __restrict__ delta) {
    const int lane = threadIdx.x & 31;
    const int64_t rows = pr.batch * pr.heads * pr.q_len;
    const int64_t warps = (int64_t)gridDim.x * (kDeltaThreads / 32);
    for (int64_t r = (int64_t)blockIdx.x * (kDeltaThreads / 32) + threadIdx.x / 32; r < rows; r += warps) {
        const int64_t bh = r / pr.q_len, t = r - bh * pr.q_len, b = bh / pr.heads, h = bh - b * pr.heads;
        const T* orow = o.at(b, h) + t * o.st;
        const T* drow = dout.at(b, h) + t * dout.st;
        float sum = 0.0f;
        for (int dd = lane; dd < pr.d; dd += 32)
            sum = fmaf(Io<T>::load(drow[dd]), Io<T>::load(orow[dd]), sum);
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) sum += shfl_xor(sum, off);
        if (lane == 0) delta[r] = sum;
    }
}

template <int DP, int MI, int NJ>
struct F32DkDv {
    static constexpr int BK = 16 * MI, BQ = 16 * NJ, LD = DP + 4, LDP = BQ + 4;
    static constexpr size_t smem =
        sizeof(float) * (size_t)(2 * BK * LD + 4 * BQ * LD + 2 * BK * LDP + 4 * BQ);
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
    const int64_t first = attention_first_query(mask, s0);
    const int64_t qt0 = first / BQ;
    const int nq = first >= T ? 0 : (int)((T + BQ - 1) / BQ - qt0);

    float dka[MI][NC], dva[MI][NC];
#pragma unroll
    for (int i = 0; i < MI; ++i)
#pragma unroll
        for (int c = 0; c < NC; ++c) dka[i][c] = dva[i][c] = 0.0f;
    const float* qg = q.at(blk.b, blk.h);
    const float* og = dout.at(blk.b, blk.h);
    const float* lseg = lse + blk.bh * T;
    const float* delg = delta + blk.bh * T;
    auto load_q_tile = [&](int buf, int64_t t0) {
        load_rows<float, BQ, DP, LD, kF32Threads>(qs + buf * BQ * LD, qg, q.st, t0, T, pr.d, q.vec);
        load_rows<float, BQ, DP, LD, kF32Threads>(os + buf * BQ * LD, og, dout.st, t0, T, pr.d, dout.vec);
        if (tid < BQ) {
            const int64_t t = t0 + tid;
            lse2s[buf * BQ + tid] = t < T ? attention_lse_log2(lseg[t]) : attn_neg_inf();
            dels[buf * BQ + tid] = t < T ? delg[t] : 0.0f;
        }
    };

    if (nq > 0) {
        load_rows<float, BK, DP, LD, kF32Threads>(ks, k.at(blk.b, blk.h), k.st, s0, S, pr.d, k.vec);
        load_rows<float, BK, DP, LD, kF32Threads>(vs, v.at(blk.b, blk.h), v.st, s0, S, pr.d, v.vec);
        load_q_tile(0, qt0 * BQ);
        cp_async_commit();
    }
    for (int j = 0; j < nq; ++j) {
        const int buf = j & 1;
        const int64_t t0 = (qt0 + j) * BQ;
        if (j + 1 < nq) {
            load_q_tile(buf ^ 1, t0 + BQ);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        const float* qb = qs + buf * BQ * LD;
        const float* ob = os + buf * BQ * LD;

        float st[MI][NJ], dpt[MI][NJ];
#pragma unroll
        for (int i = 0; i < MI; ++i)
#pragma unroll
            for (int c = 0; c < NJ; ++c) st[i][c] = dpt[i][c] = 0.0f;
        mm_dot<MI, NJ, DP, LD, LD>(st, ks, qb, ty, tx);
        mm_dot<MI, NJ, DP, LD, LD>(dpt, vs, ob, ty, tx);
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
        __syncthreads();
    }

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
    const int64_t last = (q0 + BQ < T ? q0 + BQ : T) - 1;
    const int ntiles = (int)((mask.key_end(last) + BK - 1) / BK);

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

    if (ntiles > 0) {
        load_rows<float, BQ, DP, LD, kF32Threads>(qs, q.at(blk.b, blk.h), q.st, q0, T, pr.d, q.vec);
        load_rows<float, BQ, DP, LD, kF32Threads>(os, dout.at(blk.b, blk.h), dout.st, q0, T, pr.d, dout.vec);
        load_rows<float, BK, DP, LD, kF32Threads>(ks, kg, k.st, 0, S, pr.d, k.vec);
        load_rows<float, BK, DP, LD, kF32Threads>(vs, vg, v.st, 0, S, pr.d, v.vec);
        cp_async_commit();
    }
    for (int j = 0; j < ntiles; ++j) {
        const int buf = j & 1;
        const int64_t k0 = (int64_t)j * BK;
        if (j + 1 < ntiles) {
            load_rows<float, BK, DP, LD, kF32Threads>(ks + (buf ^ 1) * BK * LD, kg, k.st, k0 + BK, S, pr.d, k.vec);
            load_rows<float, BK, DP, LD, kF32Threads>(vs + (buf ^ 1) * BK * LD, vg, v.st, k0 + BK, S, pr.d, v.vec);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        const float* kb = ks + buf * BK * LD;
        const float* vb = vs + buf * BK * LD;

        float s[MI][NJ], dp[MI][NJ];
#pragma unroll
        for (int i = 0; i < MI; ++i)
#pragma unroll
            for (int c = 0; c < NJ; ++c) s[i][c] = dp[i][c] = 0.0f;
        mm_dot<MI, NJ, DP, LD, LD>(s, qs, kb, ty, tx);
        mm_dot<MI, NJ, DP, LD, LD>(dp, os, vb, ty, tx);
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
        __syncthreads();
    }

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
// B fragments of two n-tiles (rows n0 .. n0 + 15 of the tile are the n index, columns col0 .. col0 + 15 the k index):
// b[0], b[1] for n0 .. n0 + 7, b[2], b[3] for n0 + 8 .. n0 + 15. For S = Q K^T with K row-major.
template <int LD>
__device__ __forceinline__ void load_b_nk(uint32_t (&b)[4], const bf16* tile, int n0, int col0, int lane) {
    ldsm_x4(b, tile + (n0 + (lane & 7) + ((lane >> 4) << 3)) * LD + col0 + ((lane >> 3) & 1) * 8);
}
// B fragments of two n-tiles where the tile's rows are the k index (k0 .. k0 + 15) and its columns the n index
// (n0 .. n0 + 15): O += P V with V row-major. b[0], b[1] for columns n0 .. n0 + 7, b[2], b[3] for n0 + 8 .. n0 + 15.
template <int LD>
__device__ __forceinline__ void load_b_kn(uint32_t (&b)[4], const bf16* tile, int k0, int n0, int lane) {
    ldsm_x4_trans(b, tile + (k0 + (lane & 15)) * LD + n0 + (lane >> 4) * 8);
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
    const int64_t last = (q0 + BR < T ? q0 + BR : T) - 1;
    const int ntiles = (int)((mask.key_end(last) + BC - 1) / BC);

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

    if (ntiles > 0) {
        load_rows<bf16, BR, DP, LD, kMmaThreads>(qs, q.at(blk.b, blk.h), q.st, q0, T, pr.d, q.vec);
        load_rows<bf16, BC, DP, LD, kMmaThreads>(ks, kg, k.st, 0, S, pr.d, k.vec);
        load_rows<bf16, BC, DP, LD, kMmaThreads>(vs, vg, v.st, 0, S, pr.d, v.vec);
        cp_async_commit();
    }
    for (int j = 0; j < ntiles; ++j) {
        const int buf = j & 1;
        const int64_t k0 = (int64_t)j * BC;
        if (j + 1 < ntiles) {
            load_rows<bf16, BC, DP, LD, kMmaThreads>(ks + (buf ^ 1) * BC * LD, kg, k.st, k0 + BC, S, pr.d, k.vec);
            load_rows<bf16, BC, DP, LD, kMmaThreads>(vs + (buf ^ 1) * BC * LD, vg, v.st, k0 + BC, S, pr.d, v.vec);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        if (j == 0) {
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
            for (int kk = 0; kk < KS; ++kk) {
                uint32_t b[4];
                load_b_nk<LD>(b, kb, np * 16, kk * 16, lane);
                mma_bf16(s[2 * np], qf[kk], b[0], b[1]);
                mma_bf16(s[2 * np + 1], qf[kk], b[2], b[3]);
            }

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

#pragma unroll
        for (int kj = 0; kj < BC / 16; ++kj) {
            uint32_t pa[4];
            c_to_a(pa, s, kj);
#pragma unroll
            for (int dp = 0; dp < DP / 16; ++dp) {
                uint32_t b[4];
                load_b_kn<LD>(b, vb, kj * 16, dp * 16, lane);
                mma_bf16(acc[2 * dp], pa, b[0], b[1]);
                mma_bf16(acc[2 * dp + 1], pa, b[2], b[3]);
            }
        }
        __syncthreads();
    }

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
};

// dK and dV, bf16: one (batch, head, key tile of 64) per CTA, each warp 16 keys; the transposed scores S^T = K Q^T
// and dP^T = V dO^T of a query tile of BQ become, in registers, the A operands of dV += (P Z)^T dO and dK += dS^T Q.
template <int DP, int BQ>
__global__ void __launch_bounds__(kMmaThreads) attn_bwd_dkdv_bf16_kernel(
    Problem pr, Operand<const bf16> q, Operand<const bf16> k, Operand<const bf16> v, Operand<const bf16> dout,
    const float* __restrict__ lse, const float* __restrict__ delta, Operand<bf16> dk, Operand<bf16> dv) {
    using L = MmaDkDv<DP, BQ>;
    constexpr int BK = L::BK, LD = L::LD, KS = DP / 16, NT = BQ / 8, DT = DP / 8;
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
    const int64_t first = attention_first_query(mask, s0);
    const int64_t qt0 = first / BQ;
    const int nq = first >= T ? 0 : (int)((T + BQ - 1) / BQ - qt0);

    float dka[DT][4], dva[DT][4];
    zero_frags(dka);
    zero_frags(dva);
    const bf16* qg = q.at(blk.b, blk.h);
    const bf16* og = dout.at(blk.b, blk.h);
    const float* lseg = lse + blk.bh * T;
    const float* delg = delta + blk.bh * T;
    auto load_q_tile = [&](int buf, int64_t t0) {
        load_rows<bf16, BQ, DP, LD, kMmaThreads>(qs + buf * BQ * LD, qg, q.st, t0, T, pr.d, q.vec);
        load_rows<bf16, BQ, DP, LD, kMmaThreads>(os + buf * BQ * LD, og, dout.st, t0, T, pr.d, dout.vec);
        if (tid < BQ) {
            const int64_t t = t0 + tid;
            lse2s[buf * BQ + tid] = t < T ? attention_lse_log2(lseg[t]) : attn_neg_inf();
            dels[buf * BQ + tid] = t < T ? delg[t] : 0.0f;
        }
    };

    if (nq > 0) {
        load_rows<bf16, BK, DP, LD, kMmaThreads>(ks, k.at(blk.b, blk.h), k.st, s0, S, pr.d, k.vec);
        load_rows<bf16, BK, DP, LD, kMmaThreads>(vs, v.at(blk.b, blk.h), v.st, s0, S, pr.d, v.vec);
        load_q_tile(0, qt0 * BQ);
        cp_async_commit();
    }
    for (int j = 0; j < nq; ++j) {
        const int buf = j & 1;
        const int64_t t0 = (qt0 + j) * BQ;
        if (j + 1 < nq) {
            load_q_tile(buf ^ 1, t0 + BQ);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        const bf16* qb = qs + buf * BQ * LD;
        const bf16* ob = os + buf * BQ * LD;

        float st[NT][4], dpt[NT][4];
        zero_frags(st);
        zero_frags(dpt);
#pragma unroll
        for (int kk = 0; kk < KS; ++kk) {
            uint32_t ka[4], va[4];
            load_a<LD>(ka, ks, warp * 16, kk * 16, lane);
            load_a<LD>(va, vs, warp * 16, kk * 16, lane);
#pragma unroll
            for (int np = 0; np < NT / 2; ++np) {
                uint32_t b[4];
                load_b_nk<LD>(b, qb, np * 16, kk * 16, lane);
                mma_bf16(st[2 * np], ka, b[0], b[1]);
                mma_bf16(st[2 * np + 1], ka, b[2], b[3]);
                load_b_nk<LD>(b, ob, np * 16, kk * 16, lane);
                mma_bf16(dpt[2 * np], va, b[0], b[1]);
                mma_bf16(dpt[2 * np + 1], va, b[2], b[3]);
            }
        }
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
                uint32_t b[4];
                load_b_kn<LD>(b, ob, kj * 16, dp * 16, lane);
                mma_bf16(dva[2 * dp], pa, b[0], b[1]);
                mma_bf16(dva[2 * dp + 1], pa, b[2], b[3]);
                load_b_kn<LD>(b, qb, kj * 16, dp * 16, lane);
                mma_bf16(dka[2 * dp], da, b[0], b[1]);
                mma_bf16(dka[2 * dp + 1], da, b[2], b[3]);
            }
        }
        __syncthreads();
    }

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
};

// dQ, bf16: one (batch, head, query tile of 64) per CTA over the key tiles of BK it sees; S = Q K^T and dP = dO V^T
// per warp, dS in registers is the A operand of dQ += dS K.
template <int DP, int BK>
__global__ void __launch_bounds__(kMmaThreads) attn_bwd_dq_bf16_kernel(
    Problem pr, Operand<const bf16> q, Operand<const bf16> k, Operand<const bf16> v, Operand<const bf16> dout,
    const float* __restrict__ lse, const float* __restrict__ delta, Operand<bf16> dq) {
    using L = MmaDq<DP, BK>;
    constexpr int BQ = L::BQ, LD = L::LD, KS = DP / 16, NT = BK / 8, DT = DP / 8;
    bf16* qs = reinterpret_cast<bf16*>(dynamic_smem());
    bf16* os = qs + BQ * LD;
    bf16* ks = os + BQ * LD;      // two buffers
    bf16* vs = ks + 2 * BK * LD;  // two buffers
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, c4 = lane & 3;
    const Block blk = block_of(pr, true);
    const int64_t T = pr.q_len, S = pr.kv_len, q0 = blk.tile * BQ;
    const AttentionMask mask = attention_mask(T, S, pr.kv_lengths, blk.b, pr.causal);
    const int64_t last = (q0 + BQ < T ? q0 + BQ : T) - 1;
    const int ntiles = (int)((mask.key_end(last) + BK - 1) / BK);

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

    if (ntiles > 0) {
        load_rows<bf16, BQ, DP, LD, kMmaThreads>(qs, q.at(blk.b, blk.h), q.st, q0, T, pr.d, q.vec);
        load_rows<bf16, BQ, DP, LD, kMmaThreads>(os, dout.at(blk.b, blk.h), dout.st, q0, T, pr.d, dout.vec);
        load_rows<bf16, BK, DP, LD, kMmaThreads>(ks, kg, k.st, 0, S, pr.d, k.vec);
        load_rows<bf16, BK, DP, LD, kMmaThreads>(vs, vg, v.st, 0, S, pr.d, v.vec);
        cp_async_commit();
    }
    for (int j = 0; j < ntiles; ++j) {
        const int buf = j & 1;
        const int64_t k0 = (int64_t)j * BK;
        if (j + 1 < ntiles) {
            load_rows<bf16, BK, DP, LD, kMmaThreads>(ks + (buf ^ 1) * BK * LD, kg, k.st, k0 + BK, S, pr.d, k.vec);
            load_rows<bf16, BK, DP, LD, kMmaThreads>(vs + (buf ^ 1) * BK * LD, vg, v.st, k0 + BK, S, pr.d, v.vec);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        const bf16* kb = ks + buf * BK * LD;
        const bf16* vb = vs + buf * BK * LD;

        float s[NT][4], dp[NT][4];
        zero_frags(s);
        zero_frags(dp);
#pragma unroll
        for (int kk = 0; kk < KS; ++kk) {
            uint32_t qa[4], oa[4];
            load_a<LD>(qa, qs, warp * 16, kk * 16, lane);
            load_a<LD>(oa, os, warp * 16, kk * 16, lane);
#pragma unroll
            for (int np = 0; np < NT / 2; ++np) {
                uint32_t b[4];
                load_b_nk<LD>(b, kb, np * 16, kk * 16, lane);
                mma_bf16(s[2 * np], qa, b[0], b[1]);
                mma_bf16(s[2 * np + 1], qa, b[2], b[3]);
                load_b_nk<LD>(b, vb, np * 16, kk * 16, lane);
                mma_bf16(dp[2 * np], oa, b[0], b[1]);
                mma_bf16(dp[2 * np + 1], oa, b[2], b[3]);
            }
        }
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
#pragma unroll
        for (int kj = 0; kj < BK / 16; ++kj) {
            uint32_t da[4];
            c_to_a(da, s, kj);
#pragma unroll
            for (int dp2 = 0; dp2 < DP / 16; ++dp2) {
                uint32_t b[4];
                load_b_kn<LD>(b, kb, kj * 16, dp2 * 16, lane);
                mma_bf16(acc[2 * dp2], da, b[0], b[1]);
                mma_bf16(acc[2 * dp2 + 1], da, b[2], b[3]);
            }
        }
        __syncthreads();
    }

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

template <class Kernel, class... Args>
cudaError_t launch(Kernel kernel, int64_t blocks, int threads, size_t smem, cudaStream_t s, Args... args) {
    if (blocks > 2147483647) return cudaErrorInvalidConfiguration;
    if (smem > 48 * 1024) {  // opting in past the static limit; the largest tile here fits sm_80's 163 KiB
        const cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
        if (e != cudaSuccess) return e;
    }
    kernel<<<(unsigned)blocks, threads, smem, s>>>(args...);
    return cudaGetLastError();
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The template width for a head_dim: 32, 64 or 128.
int padded_dim(int64_t d) { return d <= 32 ? 32 : d <= 64 ? 64 : 128; }

template <class T>
Operand<T> operand(T* p, const int64_t (&stride)[3]) {
    const bool aligned = ((uintptr_t)p & 15u) == 0;
    bool vec = aligned;
    for (int i = 0; i < 3; ++i) vec = vec && (stride[i] * (int64_t)sizeof(T)) % 16 == 0;
    return Operand<T>{p, stride[0], stride[1], stride[2], vec};
}

// The problem of a call; tiles is set by the launcher of each kernel.
Problem problem(const kiln_attention_desc& d, const int32_t* kv_lengths) {
    Problem pr{};
    pr.batch = d.batch;
    pr.heads = d.heads;
    pr.q_len = d.q_len;
    pr.kv_len = d.kv_len;
    pr.d = (int)d.head_dim;
    pr.scale = d.scale;
    pr.scale_log2 = attention_score_scale_log2(d.scale);
    pr.causal = d.causal;
    pr.dropout = d.dropout;
    pr.keep_scale = d.dropout > 0.0f ? dropout_scale(d.dropout) : 1.0f;
    pr.seed = d.seed;
    pr.offset = d.offset;
    pr.kv_lengths = kv_lengths;
    pr.tiles = 1;
    return pr;
}

bool empty(const kiln_attention_desc& d) {
    return d.batch <= 0 || d.heads <= 0 || d.q_len <= 0 || d.kv_len <= 0 || d.head_dim <= 0;
}

// fp32 tile shapes (MI, NJ: 16-row and 16-column blocks per CTA) per head_dim template, chosen so the shared tiles
// leave room for two CTAs per SM on sm_90 and fit sm_80.
template <int DP>
struct F32Shape;
template <>
struct F32Shape<32> {
    static constexpr int fwd_mi = 4, fwd_nj = 4, kv_mi = 4, kv_nj = 4, dq_mi = 4, dq_nj = 4;
};
template <>
struct F32Shape<64> {
    static constexpr int fwd_mi = 4, fwd_nj = 4, kv_mi = 4, kv_nj = 2, dq_mi = 4, dq_nj = 2;
};
template <>
struct F32Shape<128> {
    static constexpr int fwd_mi = 4, fwd_nj = 2, kv_mi = 2, kv_nj = 2, dq_mi = 2, dq_nj = 2;
};

// bf16 tiles: the query tile of the dK/dV pass and the key tile of the dQ pass (64, or 32 at head_dim 128 where the
// accumulators of dK and dV take most registers).
template <int DP>
struct MmaShape {
    static constexpr int kv_bq = DP == 128 ? 32 : 64, dq_bk = DP == 128 ? 32 : 64;
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
cudaError_t forward_bf16(cudaStream_t s, const kiln_attention_desc& d, const bf16* q, const bf16* k, const bf16* v,
                         const int32_t* kv_lengths, bf16* o, float* lse) {
    using L = MmaFwd<DP>;
    Problem pr = problem(d, kv_lengths);
    pr.tiles = ceil_div(d.q_len, L::BR);
    return launch(attn_fwd_bf16_kernel<DP>, d.batch * d.heads * pr.tiles, kMmaThreads, L::smem, s, pr,
                  operand(q, d.q_stride), operand(k, d.k_stride), operand(v, d.v_stride), operand(o, d.o_stride), lse);
}

// delta = rowsum(dout o) into scratch; NULL (and cudaErrorInvalidValue) when the scratch is too small.
template <class T>
cudaError_t backward_delta(cudaStream_t s, Scratch& scratch, const kiln_attention_desc& d, const T* o, const T* dout,
                           float** delta) {
    const int64_t rows = d.batch * d.heads * d.q_len;
    *delta = static_cast<float*>(scratch.get((size_t)rows * sizeof(float)));
    if (!*delta) return cudaErrorInvalidValue;
    Problem pr = problem(d, nullptr);
    pr.tiles = 1;
    const int64_t per_block = kDeltaThreads / 32;
    const int64_t wanted = ceil_div(rows, per_block), cap = 65535 * 8;
    return launch(attn_delta_kernel<T>, wanted < cap ? wanted : cap, kDeltaThreads, 0, s, pr,
                  operand(o, d.o_stride), operand(dout, d.o_stride), *delta);
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

// Shared scaffolding of the fused attention kernels in kernels/attention_f32.cu and kernels/attention_bf16.cu: device
// primitives (cp.async, ldmatrix, mma.sync), the Problem/Operand/Block types, the tile loader, the double-buffered tile
// walk every kernel runs its products in (walk_tiles), the delta kernel both backwards start with, and the host launch
// helpers. The family is split in three files to keep each under the house
// limit of 600 lines; the fp32 and bf16 paths are independent and share only what is here. Everything below sits in
// an anonymous namespace (internal linkage), so each of the two .cu files gets its own copy and they link without
// duplicate symbols or ODR trouble; this header is for those two files only.
// The family: fused flash-style attention on the GPU (kiln_attention_*), fp32 on CUDA cores and bf16 on tensor cores
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
#pragma once

#include <cstdint>

#include "attention.h"
#include "common/activations.h"
#include "common/attention_math.h"
#include "common/bf16.h"

namespace kiln::cuda {

namespace {

// ---- device primitives -------------------------------------------------------------------------------------------

#if defined(KILN_CUDA_EMU)  // native/emu: the same instructions emulated on the CPU (device.h)
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int bytes) {
    kiln_emu::ptx::cp_async(dst, src, 16, bytes);
}
__device__ __forceinline__ void cp_async_commit() { kiln_emu::ptx::cp_async_commit(); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
    kiln_emu::ptx::cp_async_wait(N);
}
__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], const void* p) { kiln_emu::ptx::ldmatrix_x4(r, p, false); }
__device__ __forceinline__ void ldsm_x4_trans(uint32_t (&r)[4], const void* p) {
    kiln_emu::ptx::ldmatrix_x4(r, p, true);
}
__device__ __forceinline__ void mma_bf16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    kiln_emu::ptx::mma_m16n8k16_bf16(d, a, b0, b1);
}
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) { return kiln_emu::ptx::cvt_bf16x2(hi, lo); }
#else
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
#endif

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

// ---- the tile walk all six kernels share -------------------------------------------------------------------------

// The tiles a CTA walks along the other axis: tiles [first, first + count), rows at or past `limit` read as zero.
struct TileRange {
    int64_t first;
    int count;
    int64_t limit;
};

// The key tiles (of BC keys) that the query tile [q0, q0 + rows) walks: up to the last key its last row sees. Keys past
// that one are never loaded (zero-filled instead): a masked key's P or dS is 0, but 0 times a NaN or inf in its V or K
// row (an unwritten cache slot past kv_lengths[b]) would still be NaN.
template <int BC>
__device__ __forceinline__ TileRange key_tiles(const AttentionMask& mask, int64_t q0, int rows, int64_t q_len) {
    const int64_t last = (q0 + rows < q_len ? q0 + rows : q_len) - 1;
    const int64_t limit = mask.key_end(last);
    return TileRange{0, (int)((limit + BC - 1) / BC), limit};
}

// The query tiles (of BQ rows) that see any key of the key tile starting at s0: from the tile of its first key's first
// query (the one that sees the fewest keys) to the last tile.
template <int BQ>
__device__ __forceinline__ TileRange query_tiles(const AttentionMask& mask, int64_t s0, int64_t q_len) {
    const int64_t first = attention_first_query(mask, s0);
    const int64_t tile0 = first / BQ;
    return TileRange{tile0, first >= q_len ? 0 : (int)((q_len + BQ - 1) / BQ - tile0), q_len};
}

// The per-query terms of the dK/dV pass's query tile starting at t0, into buffer buf: lse log2(e) and delta, -inf
// and 0 for rows past q_len, whose weights and dS are then 0.
template <int BQ>
__device__ __forceinline__ void stage_query_terms(float* lse2s, float* dels, int buf, const float* lse,
                                                  const float* delta, int64_t t0, int64_t q_len) {
    const int r = threadIdx.x;
    if (r < BQ) {
        const int64_t t = t0 + r;
        lse2s[buf * BQ + r] = t < q_len ? attention_lse_log2(lse[t]) : attn_neg_inf();
        dels[buf * BQ + r] = t < q_len ? delta[t] : 0.0f;
    }
}

// The double-buffered walk over tiles of ROWS rows, written once: tile j + 1 streams into one shared buffer while
// tile j, in the other, is used. own() queues the rows the CTA keeps for the whole walk (its query or its key tile)
// together with the first tile; stage(buf, row0) queues the tile starting at row row0 into buffer buf; use(buf, row0)
// runs when that tile is in shared memory for every thread. Each kernel's products, masks and softmax are its use().
// Queued rows arrive by cp.async when vectorized, otherwise by plain stores, which the barrier completes just the same.
template <int ROWS, class Own, class Stage, class Use>
__device__ __forceinline__ void walk_tiles(const TileRange& tiles, Own own, Stage stage, Use use) {
    if (tiles.count > 0) {
        own();
        stage(0, tiles.first * ROWS);
        cp_async_commit();
    }
    for (int j = 0; j < tiles.count; ++j) {
        const int buf = j & 1;
        const int64_t row0 = (tiles.first + j) * ROWS;
        if (j + 1 < tiles.count) {
            stage(buf ^ 1, row0 + ROWS);
            cp_async_commit();
            cp_async_wait<1>();  // tile j's group, not the one just queued
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        use(buf, row0);
        __syncthreads();  // buffer buf, and whatever use() wrote to shared memory, are overwritten next
    }
}

__device__ __forceinline__ float max_f(float a, float b) { return b > a ? b : a; }

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

// ---- host launch helpers -----------------------------------------------------------------------------------------

// The most dynamic shared memory any tile layout may take: 99 KiB, the opt-in limit of sm_86 and sm_89 (RTX 30 and 40
// series, A10, L4), which run the sm_80 code. A layout past it would fail every call on those GPUs; tiles cannot be
// chosen per device instead, since the key tile sets the online softmax's rescaling and so the result's bits.
constexpr size_t kMaxTileSmem = 99 * 1024;

template <class Kernel, class... Args>
cudaError_t launch(Kernel kernel, int64_t blocks, int threads, size_t smem, cudaStream_t s, Args... args) {
    if (blocks > 2147483647) return cudaErrorInvalidConfiguration;
    if (smem > 48 * 1024) {  // opting in past the static limit, up to kMaxTileSmem
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

}  // namespace

}  // namespace kiln::cuda

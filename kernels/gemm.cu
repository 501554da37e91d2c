// SGEMM kernels. Conventions: row-major fp32, C = alpha*op(A)*op(B) + beta*C assigned; beta == 0 never reads C.
// alpha == 0 never reads A or B; the batch index is blockIdx.z. One kernel template covers every shape and
// transpose: block tiles double-buffered in shared memory through cp.async (16-byte copies where alignment
// allows, 4-byte ones otherwise, zero-filled at ragged edges) and a register tile per thread. Needs sm_80+.
#include "gemm.h"

#include <climits>

namespace kiln::cuda {

namespace {

// ---- __global__ kernels and their device helpers ---------------------------------------------------------------

// Row padding of the shared tiles: keeps float4 alignment and moves the transposed stores of k-contiguous
// operands onto different banks.
constexpr int kPad = 4;

// Block tile BM x BN, K slice BK, register tile TM x TN per thread. A thread's TM rows are TM/4 groups of 4
// consecutive rows, the groups kThreadsM*4 apart (likewise for columns), so every shared-memory fragment read is
// one float4 and a warp's reads hit distinct banks or broadcast.
template <int BM_, int BN_, int BK_, int TM_, int TN_, int MIN_BLOCKS>
struct Tiling {
    static constexpr int BM = BM_, BN = BN_, BK = BK_, TM = TM_, TN = TN_;
    static constexpr int kThreadsM = BM / TM, kThreadsN = BN / TN;
    static constexpr int kThreads = kThreadsM * kThreadsN;
    static constexpr int kMinBlocks = MIN_BLOCKS;  // per SM, for __launch_bounds__: caps registers per thread
    static_assert(TM % 4 == 0 && TN % 4 == 0 && BK % 4 == 0, "fragments are float4");
};

using Tile128 = Tiling<128, 128, 8, 8, 8, 2>;  // 256 threads x 64 accumulators, 2 blocks/SM: large matrices
using Tile64 = Tiling<64, 64, 16, 4, 4, 1>;     // 256 threads: 4x the blocks when 128-tiles cannot fill the GPU
using Tile32 = Tiling<32, 32, 16, 4, 4, 1>;     // 64 threads: small or skinny M and N

// Asynchronous global -> shared copies (sm_80+): no staging registers, and src_bytes < the copy size zero-fills
// the rest, which is how ragged tiles get their zeros. src is not read when src_bytes is 0.
#if defined(KILN_CUDA_EMU)  // native/emu: the same copies on the CPU, landing at the wait (device.h)
__device__ __forceinline__ void cp_async4(float* dst, const float* src, bool valid) {
    kiln_emu::ptx::cp_async(dst, src, 4, valid ? 4 : 0);
}
__device__ __forceinline__ void cp_async16(float* dst, const float* src, int src_bytes) {
    kiln_emu::ptx::cp_async(dst, src, 16, src_bytes);
}
__device__ __forceinline__ void cp_async_commit() { kiln_emu::ptx::cp_async_commit(); }
template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
    kiln_emu::ptx::cp_async_wait(kPending);
}
#else
__device__ __forceinline__ void cp_async4(float* dst, const float* src, bool valid) {
    const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(d), "l"(src), "r"(valid ? 4 : 0));
}
__device__ __forceinline__ void cp_async16(float* dst, const float* src, int src_bytes) {
    const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(d), "l"(src), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int kPending>  // waits until at most kPending of this thread's committed groups are in flight
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending) : "memory");
}
#endif

// Copies one operand's BK-deep slices from global to shared memory, which holds them k-major: S[k][mn] for the
// MN rows (of op(A)) or columns (of op(B)) of the block tile. Each thread moves runs of 4 floats along the
// stored matrix's contiguous direction. kKContig: the stored matrix runs along k (A not transposed, B
// transposed), so a run is 4 k values of one mn and lands transposed, one float at a time; otherwise it is 4
// mn values of one k and lands as one 16-byte copy when kVec (base 16-byte aligned, ld % 4 == 0).
template <int MN, int BK, int kThreads, bool kKContig, bool kVec>
struct OperandCopier {
    static constexpr int kRunsPerLine = kKContig ? BK / 4 : MN / 4;
    static constexpr int kRuns = MN * BK / 4 / kThreads;  // per thread per slice
    static_assert(kRuns >= 1 && (MN * BK / 4) % kThreads == 0, "whole runs per thread");

    const float* p[kRuns];  // first float of each run in the next slice
    // kKContig: 1 if the run's mn row exists, else 0. Otherwise: how many of its 4 mn columns exist (0..4).
    int edge[kRuns];

    // Run e of a slice: its line (mn if kKContig, else k) and its first offset along the contiguous direction.
    __device__ static int line_of(int e) { return e / kRunsPerLine; }
    __device__ static int along_of(int e) { return (e % kRunsPerLine) * 4; }

    // base points at element (mn0, k = 0) of the stored operand; mn_left = valid rows/columns from mn0.
    __device__ OperandCopier(const float* base, int64_t ld, int64_t mn_left, int tid) {
#pragma unroll
        for (int i = 0; i < kRuns; ++i) {
            const int e = tid + i * kThreads;
            p[i] = base + line_of(e) * ld + along_of(e);
            if (kKContig)
                edge[i] = line_of(e) < mn_left;
            else
                edge[i] = (int)max((int64_t)0, min((int64_t)4, mn_left - along_of(e)));
        }
    }

    // Queues the copy of the next slice into s; k_left = valid k from the slice's first k (clamped to BK).
    __device__ __forceinline__ void copy(float (*s)[MN + kPad], int k_left, int64_t ld, int tid) {
#pragma unroll
        for (int i = 0; i < kRuns; ++i) {
            const int e = tid + i * kThreads, line = line_of(e), along = along_of(e);
            // Valid floats of this run, 0..4.
            const int valid = kKContig ? (edge[i] ? max(0, min(4, k_left - along)) : 0) : (line < k_left ? edge[i] : 0);
            if (!kKContig && kVec) {
                cp_async16(&s[line][along], p[i], 4 * valid);
            } else {
#pragma unroll
                for (int q = 0; q < 4; ++q)
                    cp_async4(kKContig ? &s[along + q][line] : &s[line][along + q], p[i] + q, q < valid);
            }
            p[i] += kKContig ? BK : BK * ld;
        }
    }
};

// acc += As * Bs over one K slice; As is (BK, BM) k-major, Bs is (BK, BN) k-major.
template <class T>
__device__ __forceinline__ void multiply_slice(const float (*as)[T::BM + kPad], const float (*bs)[T::BN + kPad],
                                               float (&acc)[T::TM][T::TN], int tx, int ty) {
#pragma unroll
    for (int k = 0; k < T::BK; ++k) {
        float a[T::TM], b[T::TN];
#pragma unroll
        for (int g = 0; g < T::TM / 4; ++g) {
            const float4 f = *reinterpret_cast<const float4*>(&as[k][(g * T::kThreadsM + ty) * 4]);
            a[4 * g] = f.x, a[4 * g + 1] = f.y, a[4 * g + 2] = f.z, a[4 * g + 3] = f.w;
        }
#pragma unroll
        for (int g = 0; g < T::TN / 4; ++g) {
            const float4 f = *reinterpret_cast<const float4*>(&bs[k][(g * T::kThreadsN + tx) * 4]);
            b[4 * g] = f.x, b[4 * g + 1] = f.y, b[4 * g + 2] = f.z, b[4 * g + 3] = f.w;
        }
#pragma unroll
        for (int i = 0; i < T::TM; ++i)
#pragma unroll
            for (int j = 0; j < T::TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
}

// C tile = alpha * acc + beta * C, guarded to the valid (m_left, n_left) corner (both clamped to the tile, so
// 32-bit); beta == 0 does not read C. vec_c: C 16-byte aligned with ldc % 4 == 0 (and strideC % 4 == 0), so
// full 4-column groups go as float4.
template <class T>
__device__ __forceinline__ void store_tile(const float (&acc)[T::TM][T::TN], float* __restrict__ c, int64_t ldc,
                                           int m_left, int n_left, float alpha, float beta, bool vec_c, int tx,
                                           int ty) {
#pragma unroll
    for (int i = 0; i < T::TM; ++i) {
        const int r = ((i / 4) * T::kThreadsM + ty) * 4 + i % 4;
        if (r >= m_left) continue;
        float* row = c + r * ldc;
#pragma unroll
        for (int g = 0; g < T::TN / 4; ++g) {
            const int col = (g * T::kThreadsN + tx) * 4;
            float o[4];
#pragma unroll
            for (int j = 0; j < 4; ++j) o[j] = alpha * acc[i][4 * g + j];
            if (vec_c && col + 4 <= n_left) {
                float4* q = reinterpret_cast<float4*>(row + col);
                if (beta != 0.f) {
                    const float4 old = *q;
                    o[0] = fmaf(beta, old.x, o[0]), o[1] = fmaf(beta, old.y, o[1]);
                    o[2] = fmaf(beta, old.z, o[2]), o[3] = fmaf(beta, old.w, o[3]);
                }
                *q = make_float4(o[0], o[1], o[2], o[3]);
            } else {
#pragma unroll
                for (int j = 0; j < 4; ++j)
                    if (col + j < n_left) row[col + j] = beta == 0.f ? o[j] : fmaf(beta, row[col + j], o[j]);
            }
        }
    }
}

// Block index -> (tile row, tile column), walking groups of 8 tile rows column by column so that the blocks
// resident at once share A rows and B columns in L2.
__device__ __forceinline__ void tile_coords(int bid, int tiles_m, int tiles_n, int* tm, int* tn) {
    constexpr int kGroup = 8;
    const int per_group = kGroup * tiles_n;
    const int first_m = (bid / per_group) * kGroup;
    const int rows = min(tiles_m - first_m, kGroup);
    const int in_group = bid % per_group;
    *tm = first_m + in_group % rows;
    *tn = in_group / rows;
}

// A is (M, K) or, transposed, (K, M); B is (K, N) or (N, K); C is (M, N). Grid: x = tiles of C, z = matrix of
// the batch (the launcher offsets A, B, C for batches beyond one grid's z range).
template <class T, bool kTransA, bool kTransB, bool kVec>
__global__ void __launch_bounds__(T::kThreads, T::kMinBlocks)
    sgemm_kernel(int64_t M, int64_t N, int K, float alpha, const float* __restrict__ A, int64_t lda,
                 int64_t strideA, const float* __restrict__ B, int64_t ldb, int64_t strideB, float beta,
                 float* __restrict__ C, int64_t ldc, int64_t strideC, bool vec_c) {
    __shared__ __align__(16) float as[2][T::BK][T::BM + kPad];
    __shared__ __align__(16) float bs[2][T::BK][T::BN + kPad];

    int tm, tn;
    tile_coords(blockIdx.x, (int)((M + T::BM - 1) / T::BM), (int)((N + T::BN - 1) / T::BN), &tm, &tn);
    const int64_t m0 = (int64_t)tm * T::BM, n0 = (int64_t)tn * T::BN;
    const int tid = threadIdx.x, tx = tid % T::kThreadsN, ty = tid / T::kThreadsN;
    const int64_t z = blockIdx.z;

    // Origins of this block's op(A) rows and op(B) columns in the stored matrices.
    OperandCopier<T::BM, T::BK, T::kThreads, !kTransA, kVec> ca(A + z * strideA + (kTransA ? m0 : m0 * lda), lda,
                                                                M - m0, tid);
    OperandCopier<T::BN, T::BK, T::kThreads, kTransB, kVec> cb(B + z * strideB + (kTransB ? n0 * ldb : n0), ldb,
                                                               N - n0, tid);

    float acc[T::TM][T::TN];
#pragma unroll
    for (int i = 0; i < T::TM; ++i)
#pragma unroll
        for (int j = 0; j < T::TN; ++j) acc[i][j] = 0.f;

    // Double buffering: slice s+1 is copied into one buffer while slice s is multiplied out of the other.
    // k_left counts the k still to multiply, from slice s on; alpha == 0 multiplies nothing (A, B unread).
    const int k_total = alpha == 0.f ? 0 : K;
    if (k_total > 0) {
        ca.copy(as[0], min(k_total, T::BK), lda, tid), cb.copy(bs[0], min(k_total, T::BK), ldb, tid);
        cp_async_commit();
    }
    int cur = 0;
    for (int k_left = k_total; k_left > 0; k_left -= T::BK, cur ^= 1) {
        if (k_left > T::BK) {
            const int next = min(k_left - T::BK, T::BK);
            ca.copy(as[cur ^ 1], next, lda, tid), cb.copy(bs[cur ^ 1], next, ldb, tid);
        }
        cp_async_commit();   // possibly empty: keeps "all but the newest group" meaning slice s
        cp_async_wait<1>();  // this thread's copies of slice s have landed...
        __syncthreads();     // ...and everyone else's
        multiply_slice<T>(as[cur], bs[cur], acc, tx, ty);
        __syncthreads();  // slice s fully read before the next iteration copies slice s+2 over it
    }
    store_tile<T>(acc, C + z * strideC + m0 * ldc + n0, ldc, (int)min(M - m0, (int64_t)T::BM),
                  (int)min(N - n0, (int64_t)T::BN), alpha, beta, vec_c, tx, ty);
}

// ---- host launchers ----------------------------------------------------------------------------------------------

using KernelFn = void (*)(int64_t, int64_t, int, float, const float*, int64_t, int64_t, const float*, int64_t,
                          int64_t, float, float*, int64_t, int64_t, bool);

template <class T, bool kTransA, bool kTransB>
KernelFn pick_vec(bool vec) {
    return vec ? sgemm_kernel<T, kTransA, kTransB, true> : sgemm_kernel<T, kTransA, kTransB, false>;
}

template <class T>
KernelFn pick(bool transA, bool transB, bool vec) {
    if (transA) return transB ? pick_vec<T, true, true>(vec) : pick_vec<T, true, false>(vec);
    return transB ? pick_vec<T, false, true>(vec) : pick_vec<T, false, false>(vec);
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// float4 access is legal for every tile and every matrix of the batch.
bool vec_ok(const float* p, int64_t ld, int64_t stride, int64_t batch) {
    return aligned16(p) && ld % 4 == 0 && (batch == 1 || stride % 4 == 0);
}

int sm_count() {
    int dev = 0, sms = 0;
    if (cudaGetDevice(&dev) != cudaSuccess) return 108;  // the launch that follows reports what went wrong
    if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess) return 108;
    return sms;
}

int64_t tiles(int64_t M, int64_t N, int bm, int bn) { return ((M + bm - 1) / bm) * ((N + bn - 1) / bn); }

constexpr int64_t kMaxGridZ = 65535;

template <class T>
cudaError_t launch(cudaStream_t s, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* A, int64_t lda, int64_t strideA, const float* B, int64_t ldb, int64_t strideB,
                   float beta, float* C, int64_t ldc, int64_t strideC, int64_t batch) {
    const int64_t blocks = tiles(M, N, T::BM, T::BN);
    if (blocks > INT_MAX || K > INT_MAX - T::BK) return cudaErrorInvalidValue;  // beyond 32-bit tile and k counters
    const bool vec = vec_ok(A, lda, strideA, batch) && vec_ok(B, ldb, strideB, batch);
    const bool vec_c = vec_ok(C, ldc, strideC, batch);
    const KernelFn kernel = pick<T>(transA, transB, vec);
    // One launch per 65535 matrices (grid z limit); the offsets keep every pointer 16-byte aligned when vec is.
    for (int64_t first = 0; first < batch; first += kMaxGridZ) {
        const dim3 grid((unsigned)blocks, 1, (unsigned)(batch - first < kMaxGridZ ? batch - first : kMaxGridZ));
        kernel<<<grid, T::kThreads, 0, s>>>(M, N, (int)K, alpha, A + first * strideA, lda, strideA,
                                            B + first * strideB, ldb, strideB, beta, C + first * strideC, ldc,
                                            strideC, vec_c);
        const cudaError_t err = cudaGetLastError();
        if (err != cudaSuccess) return err;
    }
    return cudaSuccess;
}

// C = beta * C where nothing is multiplied (K == 0 or alpha == 0), as the CPU twin and BLAS have it: beta == 0
// writes zeros without reading C, and beta == 1 leaves C alone (no launch). The tile kernels would compute
// alpha * 0, which is NaN for an infinite alpha, and beta * C + 0, which turns a -0 in C into +0.
__global__ void scale_c_kernel(int64_t M, int64_t N, float beta, float* __restrict__ C, int64_t ldc, int64_t strideC,
                               int64_t batch) {
    const int64_t per = M * N, total = per * batch;
    for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < total; k += (int64_t)gridDim.x * blockDim.x) {
        const int64_t b = k / per, r = (k - b * per) / N, j = k - b * per - r * N;
        float* c = C + b * strideC + r * ldc + j;
        *c = beta == 0.f ? 0.f : beta * *c;
    }
}

cudaError_t scale_c(cudaStream_t s, int64_t M, int64_t N, float beta, float* C, int64_t ldc, int64_t strideC,
                    int64_t batch) {
    if (beta == 1.f) return cudaSuccess;
    constexpr int kThreads = 256;
    const int64_t total = M * N * batch, wanted = (total + kThreads - 1) / kThreads;
    scale_c_kernel<<<(unsigned)(wanted < 4096 ? wanted : 4096), kThreads, 0, s>>>(M, N, beta, C, ldc, strideC, batch);
    return cudaGetLastError();
}

}  // namespace

cudaError_t sgemm_strided_batched(cudaStream_t s, bool transA, bool transB, int64_t M, int64_t N, int64_t K,
                                  float alpha, const float* A, int64_t lda, int64_t strideA, const float* B,
                                  int64_t ldb, int64_t strideB, float beta, float* C, int64_t ldc, int64_t strideC,
                                  int64_t batch) {
    if (M <= 0 || N <= 0 || batch <= 0) return cudaSuccess;
    if (K <= 0 || alpha == 0.f) return scale_c(s, M, N, beta, C, ldc, strideC, batch);
    // K past the kernels' 32-bit k counters (which the CPU runs) goes in slices of 2^30, the first scaled by beta and
    // the rest added onto C (beta 1): the slices depend on K alone, so the bits still do not depend on the device.
    constexpr int64_t kSliceK = (int64_t)1 << 30;
    if (K > kSliceK) {
        for (int64_t k0 = 0; k0 < K; k0 += kSliceK) {
            const int64_t kk = K - k0 < kSliceK ? K - k0 : kSliceK;
            const float* a = A + (transA ? k0 * lda : k0);  // op(A)'s columns k0.. : A's rows when A is (k, m)
            const float* b = B + (transB ? k0 : k0 * ldb);  // op(B)'s rows k0.. : B's columns when B is (n, k)
            const cudaError_t e = sgemm_strided_batched(s, transA, transB, M, N, kk, alpha, a, lda, strideA, b, ldb,
                                                        strideB, k0 == 0 ? beta : 1.0f, C, ldc, strideC, batch);
            if (e != cudaSuccess) return e;
        }
        return cudaSuccess;
    }
    // The largest tile that still gives every SM at least one block; smaller tiles trade per-thread reuse for
    // parallelism on small or skinny problems. The choice depends on the device's SM count, but the bits do not:
    // every tile has each thread sum its outputs over k from 0 to K in order, one FMA per k, so C is the same.
    const int sms = sm_count();
    if (tiles(M, N, Tile128::BM, Tile128::BN) * batch >= sms)
        return launch<Tile128>(s, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                               strideC, batch);
    if (tiles(M, N, Tile64::BM, Tile64::BN) * batch >= sms)
        return launch<Tile64>(s, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                              strideC, batch);
    return launch<Tile32>(s, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC,
                          batch);
}

cudaError_t sgemm(cudaStream_t s, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    return sgemm_strided_batched(s, transA, transB, M, N, K, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

cudaError_t gemm_f32(cudaStream_t s, const kiln_gemm_desc& d, const float* a, const float* b, float* c) {
    if (d.batch == 1) return sgemm(s, d.trans_a, d.trans_b, d.m, d.n, d.k, d.alpha, a, d.lda, b, d.ldb, d.beta, c, d.ldc);
    return sgemm_strided_batched(s, d.trans_a, d.trans_b, d.m, d.n, d.k, d.alpha, a, d.lda, d.stride_a, b, d.ldb,
                                 d.stride_b, d.beta, c, d.ldc, d.stride_c, d.batch);
}

}  // namespace kiln::cuda

// CPU fp32 SGEMM, which other CPU families call (the C ABI's gemm_f32 on top of it is declared in kernels/gemm.h), and
// (in gemm_detail) the contract between the portable driver in gemm.cpp and the per-ISA packing + micro-kernel code in
// gemm_avx512.cpp / gemm_avx2.cpp / gemm.cpp.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>

namespace kiln::cpu {

// C = alpha * op(A) * op(B) + beta * C, all row-major fp32.
// op(A) is (M, K): A is stored (M, K) with leading dim lda, or (K, M) when transA.
// op(B) is (K, N): B is stored (K, N) with leading dim ldb, or (N, K) when transB.   C is (M, N), ldc.
// beta == 0 never reads C (it may hold NaN); K == 0 or alpha == 0 gives C = beta * C without reading A or B;
// M == 0 or N == 0 is a no-op. No validation here: core validates before calling.
void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// `batch` independent GEMMs with the same shapes; matrix i uses A + i*strideA, B + i*strideB, C + i*strideC.
void sgemm_strided_batched(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                           const float* A, int64_t lda, int64_t strideA, const float* B, int64_t ldb,
                           int64_t strideB, float beta, float* C, int64_t ldc, int64_t strideC, int64_t batch);

// Products that share op(A): C_i (M, n_i) = alpha * op(A) (M, K) * B_i (K, n_i) + beta * C_i, each B_i row-major
// (K, n_i) with leading dim ldb_i. op(A) is packed once for all of them, where separate sgemm calls would pack it
// once each; the bits are those of separate sgemm calls (the same K blocking). The LSTM's weight gradients:
// dgates^T (4h, n t) against x and against h_prev, with dgates^T, the large operand, packed once.
struct SharedAPart {
    const float* b;
    int64_t ldb, n;
    float* c;
    int64_t ldc;
};
void sgemm_shared_a(bool transA, int64_t M, int64_t K, float alpha, const float* A, int64_t lda, const SharedAPart* parts,
                    int count, float beta);

namespace gemm_detail {
struct KernelSet;
}

// op(B) (K, N) packed once, in the dispatched kernel set's panels and cache blocks, for many products that share it:
// an LSTM's recurrent weight at every time step, which sgemm would otherwise pack again on every call (as much
// memory traffic as the multiply itself at the step's small M). Holds about K x N floats.
class PackedB {
  public:
    // B is stored (K, N) with leading dim ldb, or (N, K) when transB. K >= 1, N >= 1. rows: the M of the products
    // it will serve, when the caller knows it (0: any); at most 16 picks the ISA's small-M register tile, where one
    // exists (the bits are the same either way: only the K blocking decides them, and it is the same).
    PackedB(bool transB, int64_t K, int64_t N, const float* B, int64_t ldb, int64_t rows = 0);
    int64_t k() const { return k_; }
    int64_t n() const { return n_; }

  private:
    friend void sgemm_packed_b(int64_t, float, const float*, int64_t, const PackedB&, float, float*, int64_t);
    const gemm_detail::KernelSet* ks_;
    int64_t k_, n_, kc_, nc_;
    std::unique_ptr<float[]> panels_;  // block (pc, jc) at offset (pc / kc_) * stride_k_ + (jc / nc_) * block_
    int64_t stride_k_, block_;
};

// C (M, N) = alpha * A (M, K) * op(B) + beta * C on the calling thread, A row-major with leading dim lda; the same
// bits as sgemm with the same operands (the same kernels and K blocking: each C element sums the same products in
// the same order). M == 0 is a no-op.
void sgemm_packed_b(int64_t M, float alpha, const float* A, int64_t lda, const PackedB& b, float beta, float* C,
                    int64_t ldc);

// What the runtime dispatch picked: "avx512", "avx2" or "scalar" (the portable baseline; on x86-64 it is
// the same kernel template at SSE2 width, which every x86-64 CPU has).
const char* gemm_isa();

namespace gemm_detail {

// A strided view of a matrix operand: element (r, c) is at p[r * rs + c * cs]. A transpose is the same
// view with rs and cs swapped, which is how packing handles transA / transB without separate code paths.
struct View {
    const float* p;
    int64_t rs, cs;
    const float* at(int64_t r, int64_t c) const { return p + r * rs + c * cs; }
};

// One ISA's kernels and its cache blocking. Packed layouts (both zero-padded to whole micro-panels, so the
// micro-kernel never sees a ragged edge in A or B; only the C store is masked, via a stack tile):
//   packed A block: ceil(mc/mr) micro-panels, each (kc, mr) row-major:  panel[k * mr + i] = op(A)(i, k)
//   packed B block: ceil(nc/nr) micro-panels, each (kc, nr) row-major:  panel[k * nr + j] = op(B)(k, j)
// The micro-kernel broadcasts A and loads B as whole vectors, so B is the side kept close: the packed B block
// (kc, nc) lives in L2 and one A micro-panel (kc, mr) in L1 while B streams past it; the packed A block
// (mc, kc) lives in L3 (see gemm_serial in gemm.cpp).
struct KernelSet {
    const char* isa;
    int mr, nr;      // register tile of C
    int mc, kc, nc;  // cache blocks: A (mc, kc) in L3, B (kc, nc) in L2, A micro-panel (kc, mr) in L1
    // a views op(A) restricted to the block, (mc, kc); dst holds ceil(mc/mr)*mr*kc floats.
    void (*pack_a)(View a, int64_t mc, int64_t kc, float* dst);
    // b views op(B) restricted to the block, (kc, nc); dst holds ceil(nc/nr)*nr*kc floats.
    void (*pack_b)(View b, int64_t kc, int64_t nc, float* dst);
    // C tile (m, n), m <= mr, n <= nr, at c with leading dim ldc: C = alpha * a_panel * b_panel + beta * C.
    // beta == 0 does not read C.
    void (*micro)(int64_t kc, const float* a_panel, const float* b_panel, float* c, int64_t ldc, float alpha,
                  float beta, int m, int n);
    // The same with A read where it lies instead of from a packed panel: a points at op(A)(0, 0) of the tile's mr
    // rows (all of which exist), element (i, k) at a[i * rs + k * cs]. The same products in the same order: the
    // same bits as micro.
    void (*micro_in_place)(int64_t kc, const float* a, int64_t rs, int64_t cs, const float* b_panel, float* c,
                           int64_t ldc, float alpha, float beta, int n);
};

// Defined in gemm_avx512.cpp / gemm_avx2.cpp / gemm.cpp; the driver calls an ISA's set only after
// checking at runtime that the CPU has that ISA.
const KernelSet& avx512_kernels();
// 8 x 32, the same kc: PackedB's tile for M <= 16, and sgemm's where it pads less than 6 x 64 (see sgemm in gemm.cpp)
const KernelSet& avx512_small_m_kernels();
const KernelSet& avx2_kernels();
const KernelSet& baseline_kernels();

// sgemm with an explicit kernel set instead of the dispatched one, so the tests (and tuning runs) can run
// every ISA the CPU has. Same contract as sgemm.
void sgemm_using(const KernelSet& ks, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// The one text of packing and the micro-kernel, instantiated once per ISA with that ISA's vector traits V:
//   V::reg, V::W (floats per register), zero(), load(p), store(p, r), bcast(p) (p[0] in every lane),
//   fma(a, b, c) = a * b + c, mul(a, b).
// V must have internal linkage (an anonymous namespace in the ISA's file): every instantiation is then
// distinct, so the linker can never merge the AVX-512 copy into the baseline path. For the same reason the
// template calls no non-template inline function of this header (View::at is for gemm.cpp only).
// The micro-tile is MR rows by NV registers: MR * NV accumulators, NV loads of B and MR broadcasts of A
// per step of k.
// Whether vector traits V offer transpose16 (a 16 x 16 in-register transpose; simd::Avx512 does).
template <class V, class = void>
struct has_transpose16 : std::false_type {};
template <class V>
struct has_transpose16<V, std::void_t<decltype(&V::transpose16)>> : std::true_type {};

template <class V, int MR, int NV>
struct MicroTile {
    static constexpr int kRows = MR;
    static constexpr int NR = NV * V::W;
    using reg = typename V::reg;

    // a_panel is (kc, MR), b_panel is (kc, NR), C tile is (m, n) with m <= MR, n <= NR.
    static void kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha, float beta,
                       int m, int n) {
        tile(kc, PackedA{a}, b, c, ldc, alpha, beta, m, n);
    }

    // A read in place: element (i, k) of the tile's MR rows at a[i * rs + k * cs] (see KernelSet::micro_in_place).
    static void kernel_in_place(int64_t kc, const float* a, int64_t rs, int64_t cs, const float* b, float* c,
                                int64_t ldc, float alpha, float beta, int n) {
        tile(kc, InPlaceA{a, rs, cs}, b, c, ldc, alpha, beta, MR, n);
    }

    // a views op(A) as (mc, kc) -> micro-panels of (kc, MR) at dst.
    static void pack_a(View a, int64_t mc, int64_t kc, float* dst) { pack_panels<MR>(a.p, a.rs, a.cs, mc, kc, dst); }

    // b views op(B) as (kc, nc) -> micro-panels of (kc, NR) at dst.
    static void pack_b(View b, int64_t kc, int64_t nc, float* dst) { pack_panels<NR>(b.p, b.cs, b.rs, nc, kc, dst); }

  private:
    // Where the k loop finds A(i, k): a packed micro-panel, stepped by MR floats per k, or op(A) itself, stepped
    // by an offset (never by forming a pointer past the last row, which a huge leading dimension would make
    // undefined).
    struct PackedA {
        const float* a;
        const float* at(int i) const { return a + i; }
        void next() { a += MR; }
    };
    struct InPlaceA {
        const float* a;
        int64_t rs, cs, k_off = 0;
        const float* at(int i) const { return a + i * rs + k_off; }
        void next() { k_off += cs; }
    };

    template <class A>
    static void tile(int64_t kc, A a, const float* b, float* c, int64_t ldc, float alpha, float beta, int m, int n) {
        reg acc[MR][NV];
#pragma GCC unroll 32
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int j = 0; j < NV; ++j) acc[i][j] = V::zero();

        // C is touched only after the whole k loop: start pulling it in now so the store does not miss.
        if (m == MR && n == NR) {
#pragma GCC unroll 32
            for (int i = 0; i < MR; ++i) {
                __builtin_prefetch(c + i * ldc, 1, 3);
                __builtin_prefetch(c + i * ldc + NR - 1, 1, 3);
            }
        }

#pragma GCC unroll 4
        for (int64_t k = 0; k < kc; ++k) {
            reg bv[NV];
#pragma GCC unroll 8
            for (int j = 0; j < NV; ++j) bv[j] = V::load(b + j * V::W);
#pragma GCC unroll 32
            for (int i = 0; i < MR; ++i) {
                const reg av = V::bcast(a.at(i));
#pragma GCC unroll 8
                for (int j = 0; j < NV; ++j) acc[i][j] = V::fma(av, bv[j], acc[i][j]);
            }
            a.next();
            b += NR;
        }

        if (m == MR && n == NR) return store_tile(acc, alpha, beta, c, ldc);
        // Ragged edge of C: run the same store on a full tile on the stack, then copy back the valid corner.
        alignas(64) float edge[MR * NR] = {};
        if (beta != 0.0f)
            for (int i = 0; i < m; ++i) std::memcpy(edge + i * NR, c + i * ldc, n * sizeof(float));
        store_tile(acc, alpha, beta, edge, NR);
        for (int i = 0; i < m; ++i) std::memcpy(c + i * ldc, edge + i * NR, n * sizeof(float));
    }

    // Full (MR, NR) tile at c: C = alpha * acc + beta * C; beta == 0 must not read C, which may hold NaN.
    static void store_tile(const reg (&acc)[MR][NV], float alpha, float beta, float* c, int64_t ldc) {
        const reg va = V::bcast(&alpha), vb = V::bcast(&beta);
        if (beta == 0.0f) {
#pragma GCC unroll 32
            for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
                for (int j = 0; j < NV; ++j) V::store(c + i * ldc + j * V::W, V::mul(acc[i][j], va));
            return;
        }
#pragma GCC unroll 32
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int j = 0; j < NV; ++j) {
                float* p = c + i * ldc + j * V::W;
                V::store(p, V::fma(V::load(p), vb, V::mul(acc[i][j], va)));
            }
    }

    // Micro-panels of width P, each (kc, P), from `total` runs along k: element j of the panel axis at k is
    // src[j * js + k * ks]. A's panels run along its rows (js = rs, ks = cs), B's along its columns (js = cs, ks = rs).
    template <int P>
    static void pack_panels(const float* src, int64_t js, int64_t ks, int64_t total, int64_t kc, float* dst) {
        if (js == 1) {  // the panel's elements are contiguous: copy k by k
            // In strips of kStrip values of k across all panels, prefetching the next strip's rows while copying this
            // one. An A stored transposed (the dY^T of a weight gradient) gives one row of only 6 floats per k, rows a
            // leading dimension (often a page) apart: copied panel by panel, every row's first touch waited on memory,
            // since the hardware prefetcher does not follow strides across pages. The LSTM's dW (1024 x 512 x 3200,
            // A transposed) went from 9.3-9.5 to 9.05-9.2 ms on two threads.
            constexpr int64_t kStrip = 16;
            for (int64_t k0 = 0; k0 < kc; k0 += kStrip) {
                const int64_t rows = kc - k0 < kStrip ? kc - k0 : kStrip;
                const int64_t ahead = k0 + 2 * kStrip <= kc ? kStrip : 0;  // a whole next strip, or no prefetch
                float* d = dst + k0 * P;
                for (int64_t j0 = 0; j0 < total; j0 += P, d += P * kc) {
                    const int count = static_cast<int>(total - j0 < P ? total - j0 : P);
                    copy_rows<P>(src + j0 + k0 * ks, ks, count, rows, d, ahead);
                }
            }
            return;
        }
        for (int64_t j0 = 0; j0 < total; j0 += P, dst += P * kc) {
            const int count = static_cast<int>(total - j0 < P ? total - j0 : P);
            transpose_in<P>(src + j0 * js, js, ks, count, kc, dst);
        }
    }

    // Panel of width P from `count` contiguous floats per k: src[k * step + j] -> dst[k * P + j], zero-padded; with
    // ahead > 0 (rows k + ahead exist for every k here), row k + ahead is prefetched while row k is copied.
    template <int P>
    // Rows are addressed as src + k * step, not by stepping src: a step past the last row (a huge leading dimension
    // with one row, which is valid) would form a pointer beyond the address space, and that is undefined.
    static void copy_rows(const float* src, int64_t step, int count, int64_t kc, float* dst, int64_t ahead) {
        if (count == P) {  // whole panel: a fixed-size copy, which the compiler turns into full-width moves
            for (int64_t k = 0; k < kc; ++k, dst += P) {
                if (ahead > 0) __builtin_prefetch(src + (k + ahead) * step);
                std::memcpy(dst, src + k * step, P * sizeof(float));
            }
            return;
        }
        for (int64_t k = 0; k < kc; ++k, dst += P) {
            const float* row = src + k * step;
            int j = 0;
            for (; j < count; ++j) dst[j] = row[j];
            for (; j < P; ++j) dst[j] = 0.0f;
        }
    }

    // Panel of width P from `count` runs along k: src[j * js + k * ks] -> dst[k * P + j], zero-padded.
    // Reads each run in order (ks is 1 in practice) and scatters with stride P, kKB values of k at a time: the
    // panel slice being written is then kKB * P floats (8 KiB for a 64-wide B panel) and stays in L1, where the
    // whole panel (kc * P, 96 KiB) would not, and each scattered store would miss. A B operand stored transposed
    // (a Linear layer's weight) is packed this way on every call, as much work as the multiply at M = 64.
    template <int P>
    static void transpose_in(const float* src, int64_t js, int64_t ks, int count, int64_t kc, float* dst) {
        constexpr int64_t kKB = 32;
        if constexpr (has_transpose16<V>::value && P % 16 == 0) {
            // Whole 16 x 16 blocks in registers where the traits can (AVX-512); the edges as below.
            if (ks == 1 && count == P) {
                const int64_t k16 = kc / 16 * 16;
                for (int64_t k0 = 0; k0 < k16; k0 += 16)
                    for (int j0 = 0; j0 < P; j0 += 16) V::transpose16(src + j0 * js + k0, js, dst + k0 * P + j0, P);
                for (int j = 0; j < P; ++j)
                    for (int64_t k = k16; k < kc; ++k) dst[k * P + j] = src[j * js + k];
                return;
            }
        }
        for (int64_t k0 = 0; k0 < kc; k0 += kKB) {
            const int64_t k1 = k0 + kKB < kc ? k0 + kKB : kc;
            for (int j = 0; j < count; ++j) {
                const float* s = src + j * js;
                for (int64_t k = k0; k < k1; ++k) dst[k * P + j] = s[k * ks];
            }
        }
        for (int j = count; j < P; ++j)
            for (int64_t k = 0; k < kc; ++k) dst[k * P + j] = 0.0f;
    }
};

// The KernelSet of one MicroTile instantiation with its cache blocking (mc, kc, nc: see KernelSet).
template <class Tile>
KernelSet kernel_set(const char* isa, int mc, int kc, int nc) {
    return KernelSet{isa, Tile::kRows, Tile::NR, mc, kc, nc, Tile::pack_a, Tile::pack_b, Tile::kernel,
                     Tile::kernel_in_place};
}

}  // namespace gemm_detail
}  // namespace kiln::cpu

// CPU fp32 GEMM driver: runtime ISA dispatch, GotoBLAS cache blocking over packed panels, threading, and the
// portable baseline instantiation of the micro-kernel template. Compiled with baseline x86-64 flags only.
#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <vector>

#include "cpu/parallel.h"
#include "cpu/sgemm.h"
#include "cpu/simd.h"
#include "cpu/work_items.h"


namespace kiln::cpu {
namespace gemm_detail {
namespace {

#if defined(__SSE2__)
using BaselineTile = MicroTile<simd::Baseline, 4, 2>;  // 8 accumulators + 2 B + 1 A + 1 product of 16 xmm
#else
using BaselineTile = MicroTile<simd::Baseline, 4, 4>;
#endif

const KernelSet& dispatch() {
    switch (isa()) {
        case Isa::Avx512: return avx512_kernels();
        case Isa::Avx2: return avx2_kernels();
        default: return baseline_kernels();
    }
}

const KernelSet& active() {
    static const KernelSet& ks = dispatch();
    return ks;
}

// Per-thread packing buffers (work_items.h), bounded by (mc + nc) * kc floats per thread, about 4 MiB; when one
// cannot be had the caller takes the unpacked path instead of throwing.
thread_local work::Scratch t_workspace;

// One GEMM on a rectangle of C: op(A) is (m, k), op(B) is (k, n), C is (m, n).
struct Problem {
    View a, b;
    float* c;
    int64_t ldc;
    int64_t m, n, k;
    float alpha, beta;

    // The sub-problem on C rows [i0, i0 + rows) and columns [j0, j0 + cols).
    Problem rows_cols(int64_t i0, int64_t rows, int64_t j0, int64_t cols) const {
        const View sub_a{a.at(i0, 0), a.rs, a.cs}, sub_b{b.at(0, j0), b.rs, b.cs};
        return {sub_a, sub_b, c + i0 * ldc + j0, ldc, rows, cols, k, alpha, beta};
    }
};

using work::balanced_block;  // equal blocks, no thin last one (K = 400 with kc = 384: two of 200, not 384 + 16)
using work::ceil_div;
using work::round_up;

void scale_c(const Problem& p) {  // C = beta * C; beta == 0 writes zeros without reading C
    for (int64_t i = 0; i < p.m; ++i) {
        float* row = p.c + i * p.ldc;
        if (p.beta == 0.0f)
            std::fill(row, row + p.n, 0.0f);
        else if (p.beta != 1.0f)
            for (int64_t j = 0; j < p.n; ++j) row[j] *= p.beta;
    }
}

// GotoBLAS loop nest on the calling thread, in the order that suits a broadcast-A micro-kernel:
// ic (mc, A block in L3) -> pc (kc, pack A) -> jc (nc, pack B: the B block lives in L2) -> ir -> jr.
// Each A micro-panel (kc, mr) stays in L1 while the jr loop streams B micro-panels from L2 past it; B is
// the side read as whole vectors, so it is the one worth keeping close. (Measured on Zen 5: 10-15% faster
// than the BLIS order that keeps a B micro-panel in L1 and the A block in L2.) With mc covering M (the usual
// case), A and B are each packed exactly once per K block.
// When all of N is one B block, each A micro-panel serves only that block's few micro-tiles (two at N = 128), too
// few to repay packing it: packing A was a fifth of a one-core 4096 x 128 x 512 product. A is then read where it
// lies, except for a ragged last micro-panel, which is packed (zero-padded) as usual. Same bits either way.
// Row-major A (rows along k, six row streams) gains at every N up to one block; A stored transposed reads one
// cache line per step of k for six of its floats, and gains only at N <= 2 nr (it lost 2-5% at N = 256).
bool read_a_in_place(const KernelSet& ks, const View& a, int64_t n, int64_t nc) {
    if (nc < n) return false;
    return a.cs == 1 || n <= 2 * ks.nr;
}

// One (mb, kb) block of op(A) as the micro-tiles read it: rows [0, packed_from) in place through the view a, the
// rest from the packed panels at a_pack (packed_from 0: the whole block packed; else mb rounded down to whole
// micro-panels).
struct ABlock {
    View a;
    float* a_pack;
    int64_t mb, kb, packed_from;

    void pack(const KernelSet& ks) const {
        if (packed_from < mb)
            ks.pack_a({a.at(packed_from, 0), a.rs, a.cs}, mb - packed_from, kb, a_pack + packed_from * kb);
    }

    // C (mb, nb) at c = alpha * A block * packed B block (kb, nb) + beta * C, micro-tile by micro-tile.
    void multiply(const KernelSet& ks, const float* b_pack, int64_t nb, float* c, int64_t ldc, float alpha,
                  float beta) const {
        for (int64_t ir = 0; ir < mb; ir += ks.mr) {
            const int m = static_cast<int>(std::min<int64_t>(ks.mr, mb - ir));
            float* c_rows = c + ir * ldc;
            for (int64_t jr = 0; jr < nb; jr += ks.nr) {
                const int n = static_cast<int>(std::min<int64_t>(ks.nr, nb - jr));
                if (ir < packed_from)
                    ks.micro_in_place(kb, a.at(ir, 0), a.rs, a.cs, b_pack + jr * kb, c_rows + jr, ldc, alpha, beta, n);
                else
                    ks.micro(kb, a_pack + ir * kb, b_pack + jr * kb, c_rows + jr, ldc, alpha, beta, m, n);
            }
        }
    }
};

// One B operand and the C columns it produces, for products that share op(A): (k, n) op(B) into (m, n) C.
struct Columns {
    View b;
    float* c;
    int64_t ldc, n;
};

// C_i = alpha * op(A) * op(B_i) + beta * C_i for the parts i < count, each A block packed once for all of them.
// Each C element sums the same products in the same K blocks as a single product would: the same bits.
void gemm_serial(const KernelSet& ks, View a_view, int64_t m, int64_t k, float alpha, float beta_in,
                 const Columns* parts, int count) {
    const int64_t kc = balanced_block(k, ks.kc, 1);
    const int64_t mc = balanced_block(m, ks.mc, ks.mr);
    int64_t nc_max = 0;
    for (int i = 0; i < count; ++i) nc_max = std::max(nc_max, balanced_block(parts[i].n, ks.nc, ks.nr));
    const bool a_in_place = count == 1 && read_a_in_place(ks, a_view, parts[0].n, nc_max);
    const int64_t a_floats = round_up(round_up(mc, ks.mr) * kc, 16);  // B block starts on a cache line
    // Out of memory is an error (core reports it), never a slower path: an unblocked fallback summed in another order,
    // and the bits of C would have depended on which thread's buffer could be allocated.
    float* a_pack = t_workspace.get(a_floats + round_up(nc_max, ks.nr) * kc);
    float* b_pack = a_pack + a_floats;

    for (int64_t ic = 0; ic < m; ic += mc) {
        const int64_t mb = std::min(mc, m - ic);
        for (int64_t pc = 0; pc < k; pc += kc) {
            const int64_t kb = std::min(kc, k - pc);
            const float beta = pc == 0 ? beta_in : 1.0f;  // later K blocks accumulate onto the first one's result
            const ABlock a{{a_view.at(ic, pc), a_view.rs, a_view.cs}, a_pack, mb, kb, a_in_place ? mb - mb % ks.mr : 0};
            a.pack(ks);
            for (int i = 0; i < count; ++i) {
                const Columns& q = parts[i];
                const int64_t nc = balanced_block(q.n, ks.nc, ks.nr);
                for (int64_t jc = 0; jc < q.n; jc += nc) {
                    const int64_t nb = std::min(nc, q.n - jc);
                    ks.pack_b({q.b.at(pc, jc), q.b.rs, q.b.cs}, kb, nb, b_pack);
                    a.multiply(ks, b_pack, nb, q.c + ic * q.ldc + jc, q.ldc, alpha, beta);
                }
            }
        }
    }
}

void gemm_serial(const KernelSet& ks, const Problem& p) {
    const Columns part{p.b, p.c, p.ldc, p.n};
    gemm_serial(ks, p.a, p.m, p.k, p.alpha, p.beta, &part, 1);
}

// Below this many multiply-adds (about 5 us on one AVX-512 core) a fork-join costs more than it saves.
constexpr double kMinParallelMacs = 96.0 * 96.0 * 96.0;

// Cuts C into a tm x tn grid of per-thread rectangles (tm * tn == threads); each thread runs gemm_serial on
// its own, with its own packed blocks. A thread packs its A rows once per K block and its B columns once per
// (mc block, K block), so the grid minimizes the slowest thread's compute (padding to whole micro-tiles
// included) plus its packing, weighted by how much slower a packed float is than a multiply-add.
// A static split, measured 15-25% faster here than threads sharing one packed A block and taking column
// blocks from a counter; the price is that a core busy with something else slows the whole call.
struct Grid {
    int64_t tm, tn;
};

Grid pick_grid(const KernelSet& ks, int64_t m, int64_t n, int64_t k, int threads, double* cost_out = nullptr) {
    constexpr double kPackWeight = 16.0;
    const int64_t mpanels = ceil_div(m, ks.mr), npanels = ceil_div(n, ks.nr);
    Grid best{1, 1};
    double best_cost = -1.0;
    for (int64_t tm = 1; tm <= threads; ++tm) {
        if (threads % tm != 0) continue;
        const int64_t tn = threads / tm;
        if (tm > mpanels || tn > npanels) continue;
        const int64_t rows = ceil_div(mpanels, tm) * ks.mr, cols = ceil_div(npanels, tn) * ks.nr;
        const double pack = double(rows) * double(k) + double(k) * double(cols) * double(ceil_div(rows, ks.mc));
        const double cost = double(rows) * double(cols) * double(k) + kPackWeight * pack;
        if (best_cost < 0.0 || cost < best_cost) best = {tm, tn}, best_cost = cost;
    }
    if (cost_out) *cost_out = best_cost;
    return best;
}

// Part i of `parts` near-equal runs of whole `unit`-wide panels covering [0, total): [*begin, *begin + *len).
void split(int64_t total, int64_t unit, int64_t parts, int64_t i, int64_t* begin, int64_t* len) {
    const int64_t panels = ceil_div(total, unit);
    const int64_t b = (panels / parts) * i + std::min(i, panels % parts);
    const int64_t e = (panels / parts) * (i + 1) + std::min(i + 1, panels % parts);
    *begin = std::min(b * unit, total);
    *len = std::min(e * unit, total) - *begin;
}

int threads_for(int64_t m, int64_t n, int64_t k) {
    return double(m) * double(n) * double(k) < kMinParallelMacs ? 1 : num_threads();
}

void gemm_parallel(const KernelSet& ks, const Problem& p) {
    const int threads = threads_for(p.m, p.n, p.k);
    const Grid g = threads == 1 ? Grid{1, 1} : pick_grid(ks, p.m, p.n, p.k, threads);
    if (g.tm * g.tn == 1) return gemm_serial(ks, p);
    parallel_for(g.tm * g.tn, [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
            int64_t i0, rows, j0, cols;
            split(p.m, ks.mr, g.tm, t / g.tn, &i0, &rows);
            split(p.n, ks.nr, g.tn, t % g.tn, &j0, &cols);
            if (rows > 0 && cols > 0) gemm_serial(ks, p.rows_cols(i0, rows, j0, cols));
        }
    });
}

Problem make_problem(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                     int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    const View a = transA ? View{A, 1, lda} : View{A, lda, 1};  // op(A)(i, k)
    const View b = transB ? View{B, 1, ldb} : View{B, ldb, 1};  // op(B)(k, j)
    return {a, b, C, ldc, M, N, K, alpha, beta};
}

// AVX-512 has two register tiles with the same K blocking, hence the same bits: 6 x 64, the faster where neither
// pads, and 8 x 32, which pads less where N is not a multiple of 64 or M is small. N = 784 on two threads: each
// thread's 392 columns pad to 448 with 6 x 64, to 416 with 8 x 32 (128 x 784 x 512: 600 -> 538 us); N = 20 pads to 64
// or to 32 (128 x 20 x 256: 42 -> 21 us). A product takes the tile whose best grid costs least, 8 x 32's cost weighed
// up by 4%, about what it lost where nothing pads (2048 x 512 x 512, 256^3; a 12 x 32 tile lost to 8 x 32 everywhere).
const KernelSet& kernels_for(int64_t m, int64_t n, int64_t k) {
    const KernelSet& wide = active();
    if (&wide != &avx512_kernels()) return wide;
    const KernelSet& narrow = avx512_small_m_kernels();
    const int threads = threads_for(m, n, k);
    double wide_cost = 0.0, narrow_cost = 0.0;
    pick_grid(wide, m, n, k, threads, &wide_cost);
    pick_grid(narrow, m, n, k, threads, &narrow_cost);
    return narrow_cost * 1.04 < wide_cost ? narrow : wide;
}

}  // namespace

const KernelSet& baseline_kernels() {
    // B block (256, 128) = 128 KiB fits the smallest L2s; A block (1024, 256) = 1 MiB.
    static const KernelSet ks = kernel_set<BaselineTile>("scalar", 4 * 256, 256, 128);
    return ks;
}

void sgemm_using(const KernelSet& ks, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    const Problem p = make_problem(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (K <= 0 || alpha == 0.0f) return scale_c(p);
    gemm_parallel(ks, p);
}

}  // namespace gemm_detail

void gemm_f32(const kiln_gemm_desc& d, const float* a, const float* b, float* c) {
    if (d.batch == 1) return sgemm(d.trans_a, d.trans_b, d.m, d.n, d.k, d.alpha, a, d.lda, b, d.ldb, d.beta, c, d.ldc);
    sgemm_strided_batched(d.trans_a, d.trans_b, d.m, d.n, d.k, d.alpha, a, d.lda, d.stride_a, b, d.ldb, d.stride_b,
                          d.beta, c, d.ldc, d.stride_c, d.batch);
}

const char* gemm_isa() { return gemm_detail::active().isa; }

PackedB::PackedB(bool transB, int64_t K, int64_t N, const float* B, int64_t ldb, int64_t rows)
    : ks_(&gemm_detail::active()), k_(K), n_(N) {
    if (rows > 0 && rows <= 16 && ks_ == &gemm_detail::avx512_kernels()) ks_ = &gemm_detail::avx512_small_m_kernels();
    const gemm_detail::KernelSet& ks = *ks_;
    kc_ = gemm_detail::balanced_block(K, ks.kc, 1);  // the K blocking sgemm uses, so the sums run in its order
    nc_ = gemm_detail::balanced_block(N, ks.nc, ks.nr);
    block_ = gemm_detail::round_up(nc_, ks.nr) * kc_;
    stride_k_ = gemm_detail::ceil_div(N, nc_) * block_;
    panels_.reset(new float[(size_t)(gemm_detail::ceil_div(K, kc_) * stride_k_)]);
    const gemm_detail::View b = transB ? gemm_detail::View{B, 1, ldb} : gemm_detail::View{B, ldb, 1};
    // Panel by panel across threads: a block's micro-panels are independent and sit at fixed offsets (panel q of a
    // block with kb rows at q * nr * kb), so any split of them gives the same layout. Packed on the calling thread
    // alone, the LSTM's w_hh (1 MiB) kept the other thread waiting at the start of every forward and backward.
    const int64_t per_block = gemm_detail::ceil_div(nc_, ks.nr), n_blocks = gemm_detail::ceil_div(N, nc_);
    const int64_t panels = gemm_detail::ceil_div(K, kc_) * n_blocks * per_block;
    parallel_for(panels, [&](int64_t q0, int64_t q1) {
        for (int64_t q = q0; q < q1; ++q) {
            const int64_t pc = q / (n_blocks * per_block) * kc_, jc = q / per_block % n_blocks * nc_;
            const int64_t j = jc + q % per_block * ks.nr, kb = std::min(kc_, K - pc);
            if (j >= std::min(N, jc + nc_)) continue;  // the last block has fewer panels
            ks.pack_b({b.at(pc, j), b.rs, b.cs}, kb, std::min<int64_t>(ks.nr, N - j),
                      panels_.get() + (pc / kc_) * stride_k_ + (jc / nc_) * block_ + (j - jc) * kb);
        }
    }, std::max<int64_t>(1, 32768 / (kc_ * ks.nr)));
}

// gemm_serial's loop nest with B's blocks already packed: only A is packed here, once per K block, and not even that
// where N is one B block (A is row-major here: see gemm_serial).
void sgemm_packed_b(int64_t M, float alpha, const float* A, int64_t lda, const PackedB& b, float beta, float* C,
                    int64_t ldc) {
    if (M <= 0) return;
    const gemm_detail::KernelSet& ks = *b.ks_;
    const int64_t mc = gemm_detail::balanced_block(M, ks.mc, ks.mr);
    const bool a_in_place = b.nc_ >= b.n_;
    float* a_pack = gemm_detail::t_workspace.try_get(gemm_detail::round_up(mc, ks.mr) * b.kc_);
    if (a_pack == nullptr) throw std::bad_alloc();  // core reports it as out of memory
    for (int64_t ic = 0; ic < M; ic += mc) {
        const int64_t mb = std::min(mc, M - ic);
        for (int64_t pc = 0; pc < b.k_; pc += b.kc_) {
            const int64_t kb = std::min(b.kc_, b.k_ - pc);
            const float beta_k = pc == 0 ? beta : 1.0f;
            const gemm_detail::ABlock a{{A + ic * lda + pc, lda, 1}, a_pack, mb, kb, a_in_place ? mb - mb % ks.mr : 0};
            a.pack(ks);
            for (int64_t jc = 0; jc < b.n_; jc += b.nc_) {
                const float* b_pack = b.panels_.get() + (pc / b.kc_) * b.stride_k_ + (jc / b.nc_) * b.block_;
                a.multiply(ks, b_pack, std::min(b.nc_, b.n_ - jc), C + ic * ldc + jc, ldc, alpha, beta_k);
            }
        }
    }
}

void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    const gemm_detail::KernelSet& ks = gemm_detail::kernels_for(M, N, K);
    gemm_detail::sgemm_using(ks, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sgemm_shared_a(bool transA, int64_t M, int64_t K, float alpha, const float* A, int64_t lda, const SharedAPart* parts,
                    int count, float beta) {
    using namespace gemm_detail;
    if (M <= 0 || count <= 0) return;
    const KernelSet& ks = active();
    std::vector<Columns> cols;
    double macs = 0.0;
    for (int i = 0; i < count; ++i) {
        const SharedAPart& q = parts[i];
        if (q.n <= 0) continue;
        if (K <= 0 || alpha == 0.0f) {  // C = beta * C, A and B unread (as in sgemm)
            scale_c({{}, {}, q.c, q.ldc, M, q.n, K, alpha, beta});
            continue;
        }
        cols.push_back({View{q.b, q.ldb, 1}, q.c, q.ldc, q.n});
        macs += double(M) * double(q.n) * double(K);
    }
    if (cols.empty()) return;
    const View a = transA ? View{A, 1, lda} : View{A, lda, 1};
    const int64_t threads = macs < kMinParallelMacs ? 1 : std::min<int64_t>(num_threads(), ceil_div(M, ks.mr));
    // Rows across threads, each thread packing its rows of A once and every B itself (the grid a single product
    // picks for the LSTM's 1024 x 512 weight gradient is the same: two row halves).
    parallel_for(threads, [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
            int64_t i0, rows;
            split(M, ks.mr, threads, t, &i0, &rows);
            if (rows <= 0) continue;
            std::vector<Columns> mine(cols);
            for (Columns& q : mine) q.c += i0 * q.ldc;
            gemm_serial(ks, View{a.at(i0, 0), a.rs, a.cs}, rows, K, alpha, beta, mine.data(), (int)mine.size());
        }
    });
}

void sgemm_strided_batched(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                           const float* A, int64_t lda, int64_t strideA, const float* B, int64_t ldb,
                           int64_t strideB, float beta, float* C, int64_t ldc, int64_t strideC, int64_t batch) {
    if (batch <= 0 || M <= 0 || N <= 0) return;
    // With K == 0, A and B are never read and may be NULL (kiln.h), and offsetting a null pointer is undefined.
    const bool reads_ab = K > 0;
    const auto one = [&](int64_t i) {
        sgemm(transA, transB, M, N, K, alpha, reads_ab ? A + i * strideA : A, lda, reads_ab ? B + i * strideB : B, ldb,
              beta, C + i * strideC, ldc);
    };
    // Whole matrices per thread when they divide evenly or are plentiful (no per-matrix fork-join, no split
    // packing); otherwise one matrix at a time, each split across the threads.
    const int threads = num_threads();
    if (batch >= 4 * threads || batch % threads == 0) {
        parallel_for(batch, [&](int64_t begin, int64_t end) {  // nested sgemm calls run inline on this thread
            for (int64_t i = begin; i < end; ++i) one(i);
        });
    } else {
        for (int64_t i = 0; i < batch; ++i) one(i);
    }
}

}  // namespace kiln::cpu

// CPU 2-D convolution (NCHW fp32): forward, backward-data and backward-weight as implicit GEMMs, and the dispatch
// that sends 3x3 stride-1 layers to Winograd F(2x2, 3x3) instead where the CPU has AVX-512 (conv2d_winograd.h).
// Conventions: all three assign their outputs; results do not depend on the thread count (every output element is
// summed in an order fixed by the shape alone).
//
// How the GEMMs are fed. The output positions of one image are cut into blocks of L; a work item is (image, block),
// and its im2col rows are written straight into the packed panel layout the micro-kernels read (implicit packing),
// in per-thread scratch of a few hundred KiB, so no full im2col matrix ever exists.
//   forward          y (k, L) = W (k, crs) * col (crs, L)        GEMM micro-kernel (gemm.h), W packed once per call
//   backward-data    dcol (crs, L) = W^T (crs, k) * dy (k, L)    then col2im adds dcol into dx; a unit is (image,
//                                                                channel chunk), so units never add into one dx
//   backward-weight  dW^T (crs, k) += col (crs, L) * dy^T (L, k) WgradTile (conv2d.h), summed over the items into
//                                                                per-group partials; few taps (c r s <= 64) take
//                                                                the dot form instead (DotTile), which reads dy in
//                                                                place rather than transposing it
// Unit stride (the common case) takes the "padded-width" layout: positions run over the rows of the zero-padded
// input (pitch wp = w + 2 pad_w) instead of the output (pitch q), which makes every im2col row one contiguous run of
// the padded input: a plain copy instead of a gather with bounds checks. The wp - q positions at the end of each row
// are computed and thrown away (or fed zeros): 3 % at 56x56, 15 % at 13x13. Other strides take the generic path
// (pitch q), whose im2col splits each row into runs against the padding using conv_geometry.h. Parallelism is over
// work items taken from a shared counter (parallel.h); the GEMM micro-kernels run single-threaded inside them.
#include "cpu/conv2d.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "cpu/conv2d_winograd.h"
#include "cpu/gemm.h"
#include "cpu/parallel.h"
#include "cpu/work_items.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace kiln::cpu {

namespace conv2d_detail {
namespace {

#if defined(__SSE2__)
struct Baseline {  // SSE2 is part of x86-64: always safe; no FMA, hence mul + add
    using reg = __m128;
    static constexpr int W = 4;
    static reg zero() { return _mm_setzero_ps(); }
    static reg load(const float* p) { return _mm_loadu_ps(p); }
    static void store(float* p, reg r) { _mm_storeu_ps(p, r); }
    static reg bcast(const float* p) { return _mm_set1_ps(*p); }
    static reg fma(reg a, reg b, reg c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
    static reg add(reg a, reg b) { return _mm_add_ps(a, b); }
    static reg load_partial(const float* p, int n) {
        alignas(16) float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int i = 0; i < n; ++i) t[i] = p[i];
        return _mm_load_ps(t);
    }
    static float hsum(reg r) {
        alignas(16) float t[4];
        _mm_store_ps(t, r);
        return (t[0] + t[1]) + (t[2] + t[3]);
    }
};
using BaselineTile = WgradTile<Baseline, 4, 2>;  // 8 accumulators + 2 B + 1 A of 16 xmm
using BaselineDot = DotTile<Baseline, 2, 1>;      // 2 x 1 x 4 accumulators (a 16-position group is 4 xmm)
#else
struct Baseline {
    using reg = float;
    static constexpr int W = 1;
    static reg zero() { return 0.0f; }
    static reg load(const float* p) { return *p; }
    static void store(float* p, reg r) { *p = r; }
    static reg bcast(const float* p) { return *p; }
    static reg fma(reg a, reg b, reg c) { return a * b + c; }
    static reg add(reg a, reg b) { return a + b; }
    static reg load_partial(const float* p, int n) { return n > 0 ? *p : 0.0f; }
    static float hsum(reg r) { return r; }
};
using BaselineTile = WgradTile<Baseline, 4, 4>;
using BaselineDot = DotTile<Baseline, 2, 1>;
#endif

}  // namespace

void baseline_pack_b(const float* const* rows, int nrows, int64_t len, int64_t L, float* panel) {
    constexpr int NR = BaselineTile::NR;
    for (int64_t l = 0; l < L; ++l)
        for (int j = 0; j < NR; ++j) panel[l * NR + j] = (j < nrows && l < len) ? rows[j][l] : 0.0f;
}

void baseline_pack_a_row(const float* row, int64_t len, int64_t groups, int i, float* panel) {
    constexpr int MR = 4;
    for (int64_t g = 0; g < groups; ++g)
        for (int t = 0; t < 16; ++t) panel[g * MR * 16 + i * 16 + t] = g * 16 + t < len ? row[g * 16 + t] : 0.0f;
}

const WgradKernels& baseline_wgrad() {
    static const WgradKernels k{"baseline", 4, BaselineTile::NR, BaselineTile::tile, baseline_pack_b,
                                baseline_pack_a_row};
    return k;
}

const DotKernels* baseline_dot(int* count) {
    static const DotKernels k[] = {{2, 1, BaselineDot::tile}};
    *count = 1;
    return k;
}

}  // namespace conv2d_detail

namespace {

using conv::Geometry;
using work::align16;
using work::balanced_block;
using work::ceil_div;
using work::round_up;
using work::run_items;
using work::slots_for;
using conv2d_detail::DotKernels;
using conv2d_detail::WgradKernels;
using gemm_detail::KernelSet;
using gemm_detail::View;

struct Isa {
    const KernelSet* gemm;
    const KernelSet* gemm_narrow;  // a shorter tile for GEMMs with few rows (9 taps of one channel), or NULL
    const WgradKernels* wgrad;
    const DotKernels* dot;
    int ndot;
    conv2d_detail::CopyRuns copy_runs;
    void (*add_to)(float* dst, const float* src, int64_t n);  // dst[i] += src[i]: the col2im of unit stride
    const winograd::Kernels* wino;  // the 3x3 stride-1 transforms, or NULL where this ISA has none
};

void baseline_add_to(float* dst, const float* src, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// For each of `rows` rows: dst[row * ldd + run.dst + i] = src[row * lds + run.src + i] + bias[row] (bias may be NULL)
// for i < run.n, over the (src, dst, n) triples in runs. dst may equal src.
void baseline_copy_runs(const float* src, int64_t lds, float* dst, int64_t ldd, int64_t rows, const float* bias,
                        const int64_t* runs, int64_t nruns) {
    for (int64_t r = 0; r < rows; ++r) {
        const float b = bias ? bias[r] : 0.0f;
        for (int64_t u = 0; u < nruns; ++u) {
            const float* s = src + r * lds + runs[3 * u];
            float* d = dst + r * ldd + runs[3 * u + 1];
            for (int64_t i = 0; i < runs[3 * u + 2]; ++i) d[i] = s[i] + b;
        }
    }
}

Isa baseline_isa() {
    Isa i{&gemm_detail::baseline_kernels(), nullptr, &conv2d_detail::baseline_wgrad(), nullptr, 0,
          baseline_copy_runs, baseline_add_to, nullptr};
    i.dot = conv2d_detail::baseline_dot(&i.ndot);
    return i;
}

Isa pick_isa() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    // Same test as the GEMM's dispatch: CPUID plus the OS saving the wide registers.
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    {
        Isa i{&conv2d_detail::avx512_conv_gemm(), &conv2d_detail::avx512_conv_gemm_narrow(),
              &conv2d_detail::avx512_wgrad(), nullptr, 0, conv2d_detail::avx512_copy_runs,
              conv2d_detail::avx512_add_to, &winograd::avx512_kernels()};
        i.dot = conv2d_detail::avx512_dot(&i.ndot);
        return i;
    }
    Isa i = baseline_isa();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) i.gemm = &gemm_detail::avx2_kernels();
    return i;
#else
    return baseline_isa();
#endif
}

std::atomic<bool> g_force_baseline{false};

// KILN_CONV_WINOGRAD=0 keeps every layer on the implicit GEMM (bit-for-bit the direct sum's rounding pattern).
bool winograd_from_env() {
    const char* v = std::getenv("KILN_CONV_WINOGRAD");
    return !(v && v[0] == '0' && v[1] == '\0');
}
std::atomic<bool> g_winograd{winograd_from_env()};

// The Winograd transforms where the ISA has them, the switch allows and the layer is 3x3 stride 1; else NULL.
const winograd::Kernels* winograd_for(const Isa& is, bool applies) {
    return is.wino && applies && g_winograd.load(std::memory_order_relaxed) ? is.wino : nullptr;
}
winograd::WgradTile wgrad_tile_of(const WgradKernels& wk) { return {wk.mr, wk.nr, wk.tile, wk.pack_b}; }

const Isa& isa() {
    static const Isa dispatched = pick_isa();
    static const Isa baseline = baseline_isa();
    return g_force_baseline.load(std::memory_order_relaxed) ? baseline : dispatched;
}

// The GEMM tile for a product with `rows` rows: the narrow one where it pads fewer rows.
const KernelSet& gemm_for(const Isa& is, int64_t rows) {
    const int64_t ceil_main = (rows + is.gemm->mr - 1) / is.gemm->mr * is.gemm->mr;
    if (is.gemm_narrow && (rows + is.gemm_narrow->mr - 1) / is.gemm_narrow->mr * is.gemm_narrow->mr < ceil_main)
        return *is.gemm_narrow;
    return *is.gemm;
}
// Rows of a backward-data unit before the split for threads: whole channels, up to 1024 taps.
int64_t data_rows(const Geometry& g) {
    const int64_t rs = g.r * g.s;
    return std::min<int64_t>(g.c, std::max<int64_t>(1, 1024 / rs)) * rs;
}


// ---- positions and blocks -------------------------------------------------------------------------------------

// The column space of one image's GEMM and how it is cut into blocks.
struct Plan {
    int64_t rs, crs, hw, pq;
    bool fast;          // unit stride: padded-width layout, each im2col row one contiguous run
    bool padded;        // fast with padding: the run lives in a zero-padded copy of the input rows (a slab)
    int64_t hp, wp;     // padded input extents
    int64_t pitch;      // positions per output row: wp (fast) or q (generic)
    int64_t npos;       // positions per image
    int64_t L, blocks;  // positions per block (a multiple of 32) and blocks per image
    int64_t slab_rows;  // padded input rows one block can read (fast && padded)
};

// lmax: longest block wanted; unit: the block length is a multiple of it (the micro-kernel's panel width).
Plan make_plan(const Geometry& g, int64_t lmax, int64_t unit) {
    Plan pl{};
    pl.rs = g.r * g.s;
    pl.crs = g.c * pl.rs;
    pl.hw = g.h * g.w;
    pl.pq = g.p * g.q;
    pl.fast = g.stride_h == 1 && g.stride_w == 1;
    pl.padded = pl.fast && (g.pad_h != 0 || g.pad_w != 0);
    pl.hp = g.h + 2 * (int64_t)g.pad_h;
    pl.wp = g.w + 2 * (int64_t)g.pad_w;
    pl.pitch = pl.fast ? pl.wp : g.q;
    // Fast: the last row stops at its q-th position, so the runs of the last valid position end exactly at the
    // plane's last element (p - 1 + (r - 1) dh = hp - 1 and q - 1 + (s - 1) dw = wp - 1): nothing reads past it.
    pl.npos = pl.fast ? (g.p - 1) * pl.wp + g.q : pl.pq;
    pl.L = balanced_block(pl.npos, std::max(lmax, unit), unit);
    pl.blocks = ceil_div(pl.npos, pl.L);
    if (pl.padded) {
        // The furthest element a block reads, from a start anywhere in a row: offset wp - 1, L - 1 positions on,
        // plus the last tap's reach.
        const int64_t reach = (pl.wp - 1) + (pl.L - 1) + (g.r - 1) * g.dilation_h * pl.wp + (g.s - 1) * g.dilation_w;
        pl.slab_rows = std::min(pl.hp, reach / pl.wp + 1);
    }
    return pl;
}

// Walks the taps t, t + 1, ... of a filter as (channel, row, column): two divisions at the start instead of two per
// im2col row, which on 288-tap layers cost as much as the copies themselves.
struct TapWalker {
    int64_t c, r, s, R, S;
    TapWalker(const Geometry& g, int64_t t) : R(g.r), S(g.s) {
        const int64_t rs = g.r * g.s;
        c = t / rs;
        r = (t - c * rs) / g.s;
        s = t - c * rs - r * g.s;
    }
    void next() {
        if (++s == S) {
            s = 0;
            if (++r == R) r = 0, ++c;
        }
    }
};

// ---- im2col pieces ---------------------------------------------------------------------------------------------

// Short runs (one row of a small image is 11 to 60 floats): inline vector moves, where memcpy / memset would be a
// library call per run, which profiles showed costing more than the copying itself.
inline void copy_run(float* d, const float* s, int64_t n) {
    int64_t i = 0;
#if defined(__SSE2__)
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(d + i, _mm_loadu_ps(s + i));
#endif
    for (; i < n; ++i) d[i] = s[i];
}
inline void zero_run(float* d, int64_t n) {
    int64_t i = 0;
#if defined(__SSE2__)
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(d + i, _mm_setzero_ps());
#endif
    for (; i < n; ++i) d[i] = 0.0f;
}

// Positions [j0, j0 + len) of one image in output coordinates (pitch q), as runs within output rows:
// fn(oh, ow, n, at) for the n positions from (oh, ow), which are items [at, at + n) of the range.
template <class Fn>
void for_each_output_run(int64_t q, int64_t j0, int64_t len, Fn&& fn) {
    int64_t oh = j0 / q, ow = j0 - oh * q, at = 0;
    while (at < len) {
        const int64_t n = std::min(len - at, q - ow);
        fn(oh, ow, n, at);
        at += n;
        ++oh;
        ow = 0;
    }
}

// Generic im2col row: dst[i] = x value seen by tap (r, s) from output position j0 + i (pitch q), 0 in the padding.
// xc is one input plane (h, w).
void im2col_row(const Geometry& g, const float* xc, int64_t r, int64_t s, int64_t j0, int64_t len, float* dst) {
    int64_t lo, hi;
    conv::valid_outputs(g.w, g.q, s, g.stride_w, g.pad_w, g.dilation_w, &lo, &hi);
    const int64_t sw = g.stride_w;
    for_each_output_run(g.q, j0, len, [&](int64_t oh, int64_t ow, int64_t n, int64_t at) {
        float* d = dst + at;
        const int64_t ih = conv::input_index(oh, r, g.stride_h, g.pad_h, g.dilation_h);
        if (ih < 0 || ih >= g.h) {
            zero_run(d, n);
            return;
        }
        const int64_t a = std::clamp(lo, ow, ow + n), b = std::clamp(hi, a, ow + n);
        zero_run(d, a - ow);
        if (b > a) {
            const float* src = xc + ih * g.w + conv::input_index(a, s, g.stride_w, g.pad_w, g.dilation_w);
            float* o = d + (a - ow);
            if (sw == 1)
                copy_run(o, src, b - a);
            else
                for (int64_t i = 0; i < b - a; ++i) o[i] = src[i * sw];
        }
        zero_run(d + (b - ow), n - (b - ow));
    });
}

// Generic col2im row, the transpose of im2col_row: adds src[i] into the x position tap (r, s) of output position
// j0 + i sees (padding positions are dropped). dxc is one input plane (h, w).
void col2im_row(const Geometry& g, float* dxc, int64_t r, int64_t s, int64_t j0, int64_t len, const float* src) {
    int64_t lo, hi;
    conv::valid_outputs(g.w, g.q, s, g.stride_w, g.pad_w, g.dilation_w, &lo, &hi);
    const int64_t sw = g.stride_w;
    for_each_output_run(g.q, j0, len, [&](int64_t oh, int64_t ow, int64_t n, int64_t at) {
        const int64_t ih = conv::input_index(oh, r, g.stride_h, g.pad_h, g.dilation_h);
        if (ih < 0 || ih >= g.h) return;
        const int64_t a = std::clamp(lo, ow, ow + n), b = std::clamp(hi, a, ow + n);
        if (b <= a) return;
        float* d = dxc + ih * g.w + conv::input_index(a, s, g.stride_w, g.pad_w, g.dilation_w);
        const float* v = src + at + (a - ow);
        if (sw == 1)
            for (int64_t i = 0; i < b - a; ++i) d[i] += v[i];
        else
            for (int64_t i = 0; i < b - a; ++i) d[i * sw] += v[i];
    });
}

// Padded-width view of one dy row (pitch q) for positions [j0, j0 + len) with pitch wp: dst[i] = dy at the output
// (oh, ow) = divmod(j0 + i, wp) when ow < q, else 0 (the throw-away positions must contribute nothing).
void dy_row_padded(const float* dyrow, int64_t q, int64_t wp, int64_t j0, int64_t len, float* dst) {
    int64_t oh = j0 / wp, ow = j0 - oh * wp, at = 0;
    while (at < len) {
        const int64_t n = std::min(len - at, wp - ow);
        const int64_t valid = std::clamp(q - ow, int64_t(0), n);
        copy_run(dst + at, dyrow + oh * q + ow, valid);
        zero_run(dst + at + valid, n - valid);
        at += n;
        ++oh;
        ow = 0;
    }
}

// Zero-padded copy of input rows [row0, row0 + rows) (padded coordinates) of channels [c0, c1) of one image x
// (c, h, w): plane i of the slab is at slab + i * plane, each row wp wide.
void fill_slab(const Geometry& g, const Plan& pl, const float* xn, int64_t c0, int64_t c1, int64_t row0, int64_t rows,
               float* slab, int64_t plane) {
    for (int64_t c = c0; c < c1; ++c) {
        const float* xc = xn + c * pl.hw;
        float* dc = slab + (c - c0) * plane;
        for (int64_t t = 0; t < rows; ++t) {
            float* d = dc + t * pl.wp;
            const int64_t ih = row0 + t - g.pad_h;
            if (ih < 0 || ih >= g.h) {
                zero_run(d, pl.wp);
                continue;
            }
            zero_run(d, g.pad_w);
            copy_run(d + g.pad_w, xc + ih * g.w, g.w);
            zero_run(d + g.pad_w + g.w, pl.wp - g.pad_w - g.w);
        }
    }
}

// Rows the slab of the block at j0 (len positions) needs, from padded row j0 / wp.
int64_t slab_rows_for(const Geometry& g, const Plan& pl, int64_t j0, int64_t len) {
    const int64_t row0 = j0 / pl.wp, off0 = j0 - row0 * pl.wp;
    const int64_t reach = off0 + len - 1 + (g.r - 1) * g.dilation_h * pl.wp + (g.s - 1) * g.dilation_w;
    return std::min(pl.hp - row0, reach / pl.wp + 1);
}

// row[0, len) into row kk of a packed GEMM B block (kb, ...): panel p (columns [p nr, p nr + nr)) is at
// panels + p * kb * nr, row-major (kb, nr). Columns from len to the end of the last panel get zeros.
template <int NR>
int64_t whole_panels(const float* row, int64_t len, float*& dst, int64_t stride) {
    int64_t p0 = 0;  // fixed-size copies: the compiler emits straight vector moves instead of calling memcpy
    for (; p0 + NR <= len; p0 += NR, dst += stride) std::memcpy(dst, row + p0, NR * sizeof(float));
    return p0;
}

void row_to_panels(const float* row, int64_t len, int nr, int64_t kb, int64_t kk, float* panels) {
    float* dst = panels + kk * nr;
    const int64_t stride = kb * nr;
    int64_t p0 = 0;
    switch (nr) {  // the panel widths of the tiles in use
        case 48: p0 = whole_panels<48>(row, len, dst, stride); break;
        case 32: p0 = whole_panels<32>(row, len, dst, stride); break;
        case 64: p0 = whole_panels<64>(row, len, dst, stride); break;
        case 16: p0 = whole_panels<16>(row, len, dst, stride); break;
        case 96: p0 = whole_panels<96>(row, len, dst, stride); break;
        default: break;
    }
    for (; p0 < len; p0 += nr, dst += stride) {
        const int64_t n = std::min<int64_t>(nr, len - p0);
        copy_run(dst, row + p0, n);
        zero_run(dst + n, nr - n);
    }
}

// row[0, len) into row i of a k16-interleaved A panel of `groups` groups (see WgradKernels): 16-float run g goes to
// panel + g * mr * 16 + i * 16. Positions from len to 16 * groups get zeros.
void row_to_k16(const float* row, int64_t len, int64_t groups, int mr, int i, float* panel) {
    float* dst = panel + i * 16;
    const int64_t stride = int64_t(mr) * 16;
    int64_t g = 0;
    for (; (g + 1) * 16 <= len; ++g, dst += stride) std::memcpy(dst, row + g * 16, 16 * sizeof(float));
    for (; g < groups; ++g, dst += stride) {
        const int64_t n = std::clamp<int64_t>(len - g * 16, 0, 16);
        copy_run(dst, row + g * 16, n);
        zero_run(dst + n, 16 - n);
    }
}

// ---- forward ---------------------------------------------------------------------------------------------------

struct ForwardLayout {
    Plan pl;
    int64_t kc, kpad;       // tap block (GEMM depth) and filters rounded to whole A panels
    bool direct;            // positions are output positions: the GEMM writes y itself
    int64_t shared;         // packed W: kpad * crs
    int64_t bp, slab, slab_plane, row, ctmp, runs, per_slot;
};

ForwardLayout forward_layout(const Geometry& g, const KernelSet& ks) {
    ForwardLayout f{};
    const int64_t crs = g.c * g.r * g.s;
    f.kc = balanced_block(crs, ks.kc, 1);
    // The B block (kc, L) stays in L2 while every A panel streams past it. Long blocks measured best with two
    // threads (ResNet 3x3: L = 960 gave 15 % over L = 480, single-threaded speed unchanged): each filter's output
    // row segment is longer, which the concurrent write streams to y seem to need.
    const int64_t lmax = std::clamp<int64_t>(196608 / f.kc, 384, 4096);
    f.pl = make_plan(g, lmax, ks.nr);
    f.kpad = round_up(g.k, ks.mr);
    f.direct = f.pl.pitch == g.q;
    f.shared = align16(f.kpad * crs);
    f.bp = align16(f.kc * round_up(f.pl.L, ks.nr));
    f.slab_plane = f.pl.padded ? f.pl.slab_rows * f.pl.wp : 0;
    f.slab = f.pl.padded ? align16(g.c * f.slab_plane) : 0;
    f.row = f.pl.fast ? 0 : align16(f.pl.L);
    f.ctmp = f.direct ? 0 : align16(f.kpad * f.pl.L);  // whole tiles: rows to kpad, columns to L
    f.runs = f.direct ? 0 : align16(2 * 3 * (f.pl.L / std::max<int64_t>(1, f.pl.wp) + 2));  // int64 triples
    f.per_slot = f.bp + f.slab + f.row + f.ctmp + f.runs;
    return f;
}

}  // namespace

void conv2d_forward(const Geometry& g, const float* x, const float* w, const float* bias, float* y) {
    if (conv::y_size(g) == 0) return;
    const Isa& is = isa();
    if (const winograd::Kernels* wk = winograd_for(is, winograd::applies(g)))
        return winograd::forward(*wk, *is.gemm, g, x, w, bias, y);
    const KernelSet& ks = gemm_for(is, g.k);
    const ForwardLayout f = forward_layout(g, ks);
    const Plan& pl = f.pl;
    const int64_t crs = pl.crs, items = g.n * pl.blocks, n_slots = slots_for(items);
    float* ws = work::thread_scratch(f.shared + n_slots * f.per_slot);
    float* ap = ws;  // W as GEMM A panels, one (kpad, kb) block per tap block, packed once and shared read-only

    for (int64_t pc = 0; pc < crs; pc += f.kc) {
        const int64_t kb = std::min(f.kc, crs - pc);
        ks.pack_a(View{w + pc, crs, 1}, g.k, kb, ap + f.kpad * pc);
    }

    run_items(items, ws + f.shared, f.per_slot, [&](float* mem, int64_t item) {
        float* bp = mem;
        float* slab = bp + f.bp;
        float* row = slab + f.slab;
        float* ctmp = row + f.row;
        int64_t* runs = reinterpret_cast<int64_t*>(ctmp + f.ctmp);
        const int64_t ni = item / pl.blocks, j0 = (item % pl.blocks) * pl.L, len = std::min(pl.L, pl.npos - j0);
        const float* xn = x + ni * g.c * pl.hw;
        float* yn = y + ni * g.k * pl.pq;

        int64_t off0 = 0;  // where position j0 sits in the slab's first row
        if (pl.padded) {
            const int64_t row0 = j0 / pl.wp;
            off0 = j0 - row0 * pl.wp;
            fill_slab(g, pl, xn, 0, g.c, row0, slab_rows_for(g, pl, j0, len), slab, f.slab_plane);
        }

        float* c = f.direct ? yn + j0 : ctmp;
        const int64_t ldc = f.direct ? pl.pq : pl.L;
        for (int64_t pc = 0; pc < crs; pc += f.kc) {
            const int64_t kb = std::min(f.kc, crs - pc);
            TapWalker t(g, pc);
            for (int64_t kk = 0; kk < kb; ++kk, t.next()) {
                const int64_t shift = t.r * g.dilation_h * pl.wp + t.s * g.dilation_w;
                const float* src;
                if (pl.padded) {
                    src = slab + t.c * f.slab_plane + off0 + shift;
                } else if (pl.fast) {
                    src = xn + t.c * pl.hw + j0 + shift;
                } else {
                    im2col_row(g, xn + t.c * pl.hw, t.r, t.s, j0, len, row);
                    src = row;
                }
                row_to_panels(src, len, ks.nr, kb, kk, bp);
            }
            const float beta = pc == 0 ? 0.0f : 1.0f;  // later tap blocks accumulate onto the first
            const float* a = ap + f.kpad * pc;
            // Into y: clip the tiles to it. Into the scratch tile: always whole tiles (the fast store path).
            const int64_t rows = f.direct ? g.k : f.kpad, cols = f.direct ? len : round_up(len, ks.nr);
            for (int64_t ir = 0; ir < rows; ir += ks.mr) {
                const int m = static_cast<int>(std::min<int64_t>(ks.mr, rows - ir));
                for (int64_t jr = 0; jr < cols; jr += ks.nr) {
                    const int n = static_cast<int>(std::min<int64_t>(ks.nr, cols - jr));
                    ks.micro(kb, a + ir * kb, bp + jr * kb, c + ir * ldc + jr, ldc, 1.0f, beta, m, n);
                }
            }
        }

        if (f.direct) {
            if (bias) {
                const int64_t run[3] = {0, 0, len};
                is.copy_runs(yn + j0, pl.pq, yn + j0, pl.pq, g.k, bias, run, 1);
            }
            return;
        }
        // Padded-width positions back to output positions, dropping the throw-away ones, adding the bias: the
        // runs (scratch offset, y offset, count) are the same for every filter.
        int64_t nruns = 0;
        int64_t oh = j0 / pl.wp, ow = j0 - oh * pl.wp, at = 0;
        while (at < len) {
            const int64_t n = std::min(len - at, pl.wp - ow);
            const int64_t valid = std::clamp(g.q - ow, int64_t(0), n);
            if (valid > 0) {
                runs[3 * nruns] = at, runs[3 * nruns + 1] = oh * g.q + ow, runs[3 * nruns + 2] = valid;
                ++nruns;
            }
            at += n;
            ++oh;
            ow = 0;
        }
        is.copy_runs(ctmp, pl.L, yn, pl.pq, g.k, bias, runs, nruns);
    });
}

namespace {

// ---- backward-data ---------------------------------------------------------------------------------------------

struct DataLayout {
    Plan pl;
    int64_t kc;             // GEMM depth block over the filters
    int64_t cc, chunks;     // input channels per work unit, units per image
    int64_t rpad;           // dcol rows of a unit (cc * r * s) rounded to whole A panels
    int64_t ad, bd, dcol, dxp, row, per_slot, shared;
};

DataLayout data_layout(const Geometry& g, const KernelSet& ks) {
    DataLayout d{};
    d.pl = make_plan(g, 384, ks.nr);
    const Plan& pl = d.pl;
    d.kc = balanced_block(g.k, ks.kc, 1);
    // A unit is (image, channel chunk): its dx planes are its own, so units never race on the col2im adds. Chunks
    // are capped so the unit's dcol block (cc r s, L) and padded planes stay cache-sized, and split further when
    // the batch alone cannot keep every thread busy (chunking changes no result: each dx element's sum order is
    // fixed by the taps and blocks, not by the chunk).
    int64_t cc = std::min<int64_t>(g.c, std::max<int64_t>(1, 1024 / pl.rs));
    if (pl.padded) cc = std::min<int64_t>(cc, std::max<int64_t>(1, (int64_t(1) << 20) / (pl.hp * pl.wp)));
    const int64_t want = 2 * num_threads();
    if (g.n < want) {
        const int64_t split = std::max<int64_t>(1, g.c / ceil_div(want, g.n));
        cc = std::min(cc, std::max(split, ceil_div(4 * ks.mr, pl.rs)));
    }
    d.cc = std::max<int64_t>(1, cc);
    d.chunks = ceil_div(g.c, d.cc);
    d.rpad = round_up(d.cc * pl.rs, ks.mr);
    d.ad = align16(d.rpad * g.k);  // one chunk's packed W^T; all chunks are packed once per call (shared)
    d.bd = align16(d.kc * round_up(pl.L, ks.nr));
    d.dcol = align16(d.rpad * pl.L);
    d.dxp = pl.padded ? align16(d.cc * pl.hp * pl.wp) : 0;
    d.row = (pl.fast && pl.pitch != g.q) ? align16(pl.L) : 0;
    d.per_slot = d.bd + d.dcol + d.dxp + d.row;
    d.shared = d.chunks * d.ad;
    return d;
}

}  // namespace

void conv2d_backward_data(const Geometry& g, const float* dy, const float* w, float* dx) {
    if (conv::x_size(g) == 0) return;
    const Isa& is = isa();
    if (const winograd::Kernels* wk = winograd_for(is, winograd::applies_backward_data(g)))
        return winograd::backward_data(*wk, *is.gemm, g, dy, w, dx);
    const KernelSet& ks = gemm_for(is, data_rows(g));
    const DataLayout d = data_layout(g, ks);
    const Plan& pl = d.pl;
    const int64_t crs = pl.crs, units = g.n * d.chunks;
    float* ws = work::thread_scratch(d.shared + slots_for(units) * d.per_slot);
    // W^T as A panels, per channel chunk and filter block: op(A)(i, f) = w[f crs + t0 + i] for the chunk's rows.
    // Every image's unit of a chunk reads the same panels, so they are packed once, here.
    for (int64_t ch = 0; ch < d.chunks; ++ch) {
        const int64_t t0 = ch * d.cc * pl.rs, rows = (std::min(g.c, (ch + 1) * d.cc) - ch * d.cc) * pl.rs;
        for (int64_t pc = 0; pc < g.k; pc += d.kc)
            ks.pack_a(View{w + pc * crs + t0, 1, crs}, rows, std::min(d.kc, g.k - pc), ws + ch * d.ad + d.rpad * pc);
    }

    run_items(units, ws + d.shared, d.per_slot, [&](float* mem, int64_t unit) {
        float* bd = mem;
        float* dcol = bd + d.bd;
        float* dxp = dcol + d.dcol;
        float* row = dxp + d.dxp;
        const int64_t ni = unit / d.chunks, c0 = (unit % d.chunks) * d.cc, c1 = std::min(g.c, c0 + d.cc);
        const int64_t t0 = c0 * pl.rs, rows = (c1 - c0) * pl.rs;
        const float* dyn = dy + ni * g.k * pl.pq;
        float* dxn = dx + ni * g.c * pl.hw + c0 * pl.hw;

        const float* ad = ws + (unit % d.chunks) * d.ad;  // this chunk's packed W^T

        // col2im target: the padded planes (cropped into dx at the end) or dx itself.
        float* plane = pl.padded ? dxp : dxn;
        const int64_t plane_size = pl.padded ? pl.hp * pl.wp : pl.hw;
        std::fill(plane, plane + (c1 - c0) * plane_size, 0.0f);

        for (int64_t b = 0; b < pl.blocks; ++b) {
            const int64_t j0 = b * pl.L, len = std::min(pl.L, pl.npos - j0);
            for (int64_t pc = 0; pc < g.k; pc += d.kc) {
                const int64_t kb = std::min(d.kc, g.k - pc);
                for (int64_t kk = 0; kk < kb; ++kk) {
                    const float* dyrow = dyn + (pc + kk) * pl.pq;
                    const float* src = dyrow + j0;
                    if (pl.fast && pl.pitch != g.q) {
                        dy_row_padded(dyrow, g.q, pl.wp, j0, len, row);
                        src = row;
                    }
                    row_to_panels(src, len, ks.nr, kb, kk, bd);
                }
                const float beta = pc == 0 ? 0.0f : 1.0f;
                const float* a = ad + d.rpad * pc;
                // dcol is scratch with whole tiles (rpad rows, L columns): the micro-kernel's unclipped store.
                for (int64_t ir = 0; ir < rows; ir += ks.mr)
                    for (int64_t jr = 0; jr < len; jr += ks.nr)
                        ks.micro(kb, a + ir * kb, bd + jr * kb, dcol + ir * pl.L + jr, pl.L, 1.0f, beta, ks.mr, ks.nr);
            }
            TapWalker t(g, t0);
            for (int64_t i = 0; i < rows; ++i, t.next()) {
                const float* src = dcol + i * pl.L;
                float* pc_plane = plane + (t.c - c0) * plane_size;
                if (pl.fast) {
                    // Throw-away positions carry exact zeros (their dy was 0) and land inside the plane.
                    is.add_to(pc_plane + j0 + t.r * g.dilation_h * pl.wp + t.s * g.dilation_w, src, len);
                } else {
                    col2im_row(g, pc_plane, t.r, t.s, j0, len, src);
                }
            }
        }

        if (pl.padded)
            for (int64_t c = 0; c < c1 - c0; ++c)
                for (int64_t ih = 0; ih < g.h; ++ih)
                    copy_run(dxn + c * pl.hw + ih * g.w, dxp + c * plane_size + (ih + g.pad_h) * pl.wp + g.pad_w, g.w);
    });
}

namespace {

// ---- backward-weight -------------------------------------------------------------------------------------------

struct WeightLayout {
    Plan pl;
    int64_t tpad, kp;       // taps rounded to whole A panels, filters to whole B panels
    int64_t groups;         // item groups, each with its own dW^T partial (summed in order at the end)
    int64_t cp, chunks;     // tap panels per unit, units per group
    int64_t shared;         // the partials: groups * tpad * kp
    int64_t aw, bw, slab, slab_plane, row, per_slot;
};

WeightLayout weight_layout(const Geometry& g, const WgradKernels& wk) {
    WeightLayout v{};
    v.pl = make_plan(g, 512, 16);
    const Plan& pl = v.pl;
    v.tpad = round_up(pl.crs, wk.mr);
    v.kp = round_up(g.k, wk.nr);
    const int64_t panels = v.tpad / wk.mr, items = g.n * pl.blocks;
    // Parallelism comes from item groups (each sums its share of the batch into a private dW^T) and from splitting
    // the taps (each unit owns dW^T rows, but repacks dy^T for them). Groups cost a dW-sized partial each, so
    // they are capped by memory; their number depends on the shape only, which keeps results independent of the
    // thread count.
    v.groups = std::clamp<int64_t>((int64_t(1) << 21) / (v.tpad * v.kp), 1, std::min<int64_t>(4, items));
    const int64_t want = 2 * num_threads();
    const int64_t split = v.groups >= want ? 1 : ceil_div(want, v.groups);
    v.cp = std::clamp<int64_t>(ceil_div(panels, split), std::min<int64_t>(panels, 2), 64);
    v.chunks = ceil_div(panels, v.cp);
    v.shared = align16(v.groups * v.tpad * v.kp) + align16(2 * v.groups * g.k);  // + dbias partials (doubles)
    v.aw = align16(v.cp * wk.mr * pl.L);
    v.bw = align16(pl.L * v.kp);
    if (pl.padded) {
        v.slab_plane = pl.slab_rows * pl.wp;
        // Channels one unit's taps can touch: a run of cp * mr taps spans at most this many.
        const int64_t chans = std::min<int64_t>(g.c, ceil_div(v.cp * wk.mr, pl.rs) + 1);
        v.slab = align16(chans * v.slab_plane);
    }
    v.row = align16(wk.nr * pl.L);  // padded-width dy rows of one B panel (fast), or one im2col row (generic)
    v.per_slot = v.aw + v.bw + v.slab + v.row;
    return v;
}

// Sum of one row with 16 independent lanes (vectorizes without reassociation) into a double.
double row_sum(const float* v, int64_t n) {
    float lanes[16] = {};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; ++l) lanes[l] += v[i + l];
    double s = 0.0;
    for (; i < n; ++i) s += v[i];
    for (int l = 0; l < 16; ++l) s += lanes[l];
    return s;
}

// The dot form (few taps): units are (image group, filter chunk); a unit packs the im2col of a batch of its images
// (every tap, the whole image) and runs each (tap panel, filter tile) over the batch with the accumulators in
// registers. Groups play the same role as in the GEMM form: a private partial each, summed in order at the end.
struct DotLayout {
    bool use = false;
    const DotKernels* dk = nullptr;
    int64_t tpad = 0, groups_img = 0, per_image = 0;  // taps to whole panels; 16-position groups; A floats per image
    int64_t groups = 0, batch = 0;                     // image groups (units' partials); images packed at a time
    int64_t fchunk = 0, fchunks = 0;                   // filters per unit (whole tiles) and units per group
    int64_t shared = 0, per_slot = 0, row = 0;  // shared: the dW^T partials, then the dbias partials (doubles)
};

DotLayout dot_layout(const Geometry& g, const Isa& is) {
    DotLayout v;
    const int64_t crs = g.c * g.r * g.s, pq = g.p * g.q;
    // The GEMM form transposes dy once per item and amortizes it over the taps: with few taps that transpose is
    // most of the work, and this form, which reads dy in place, wins.
    if (crs > 64 || g.n == 0) return v;
    // The tile whose tap count divides c r s (list order is preference), else the least padding.
    const DotKernels* best = nullptr;
    for (int i = 0; i < is.ndot && !best; ++i)
        if (crs % is.dot[i].mr == 0) best = &is.dot[i];
    if (!best) {
        best = &is.dot[0];
        for (int i = 1; i < is.ndot; ++i)
            if (round_up(crs, is.dot[i].mr) < round_up(crs, best->mr)) best = &is.dot[i];
    }
    v.dk = best;
    v.tpad = round_up(crs, best->mr);
    v.groups_img = ceil_div(pq, 16);
    v.per_image = v.tpad * v.groups_img * 16;
    if (v.per_image > (int64_t(1) << 20)) return v;  // huge images: the GEMM form's blocks keep scratch bounded
    v.groups = std::min<int64_t>(8, g.n);
    const int64_t ftiles = ceil_div(g.k, best->tk), want = 2 * num_threads();
    const int64_t split = v.groups >= want ? 1 : std::min(ftiles, ceil_div(want, v.groups));
    v.fchunk = ceil_div(ftiles, split) * best->tk;
    v.fchunks = ceil_div(g.k, v.fchunk);
    v.batch = std::clamp<int64_t>((int64_t(1) << 18) / v.per_image, 1, ceil_div(g.n, v.groups));
    v.shared = align16(v.groups * v.tpad * g.k) + align16(2 * v.groups * g.k);
    v.row = align16(pq);
    v.per_slot = align16(v.batch * v.per_image) + v.row;
    v.use = true;
    return v;
}

// dW (k, crs) = sum over the groups of the partials dW^T (tpad rows, leading dimension ld), in group order.
void reduce_partials(const Geometry& g, const float* part, int64_t groups, int64_t tpad, int64_t ld, float* dw) {
    const int64_t crs = g.c * g.r * g.s;
    parallel_for(crs, [&](int64_t t0, int64_t t1) {
        float sum[256];  // a slice of one partial row: the group rows are read contiguously, dw written strided
        for (int64_t t = t0; t < t1; ++t)
            for (int64_t f0 = 0; f0 < g.k; f0 += 256) {
                const int64_t n = std::min<int64_t>(256, g.k - f0);
                const float* p0 = part + t * ld + f0;
                for (int64_t f = 0; f < n; ++f) sum[f] = p0[f];
                for (int64_t gi = 1; gi < groups; ++gi) {
                    const float* pg = p0 + gi * tpad * ld;
                    for (int64_t f = 0; f < n; ++f) sum[f] += pg[f];
                }
                for (int64_t f = 0; f < n; ++f) dw[(f0 + f) * crs + t] = sum[f];
            }
    }, 16);
}

// dbias (k) = sum over the groups of their partials (k doubles each), in group order.
void reduce_bias(const Geometry& g, const double* part, int64_t groups, float* dbias) {
    for (int64_t f = 0; f < g.k; ++f) {
        double s = 0.0;
        for (int64_t gi = 0; gi < groups; ++gi) s += part[gi * g.k + f];
        dbias[f] = static_cast<float>(s);
    }
}

// The bias gradient rides along: each unit sums the dy rows of its filters while the batch is still in cache,
// instead of a separate pass over all of dy (which, for a first layer, costs as much as the weight gradient).
void backward_weight_dot(const Geometry& g, const DotLayout& v, const float* x, const float* dy, float* dw,
                         float* dbias) {
    const DotKernels& dk = *v.dk;
    const int64_t crs = g.c * g.r * g.s, rs = g.r * g.s, hw = g.h * g.w, pq = g.p * g.q;
    const int64_t units = v.groups * v.fchunks, panel = v.groups_img * dk.mr * 16;
    const int tail = static_cast<int>(pq - (v.groups_img - 1) * 16);
    float* ws = work::thread_scratch(v.shared + slots_for(units) * v.per_slot);
    float* part = ws;
    double* bpart = reinterpret_cast<double*>(ws + align16(v.groups * v.tpad * g.k));
    run_items(units, ws + v.shared, v.per_slot, [&](float* mem, int64_t unit) {
        float* abuf = mem;
        float* row = mem + align16(v.batch * v.per_image);
        const int64_t gi = unit / v.fchunks, f0 = (unit % v.fchunks) * v.fchunk, f1 = std::min(g.k, f0 + v.fchunk);
        float* out = part + gi * v.tpad * g.k;
        double* bsum = bpart + gi * g.k;
        for (int64_t t = 0; t < v.tpad; ++t) std::fill(out + t * g.k + f0, out + t * g.k + f1, 0.0f);
        std::fill(bsum + f0, bsum + f1, 0.0);
        const int64_t i0 = gi * g.n / v.groups, i1 = (gi + 1) * g.n / v.groups;
        for (int64_t b0 = i0; b0 < i1; b0 += v.batch) {
            const int64_t nb = std::min(v.batch, i1 - b0);
            for (int64_t img = 0; img < nb; ++img) {
                const float* xn = x + (b0 + img) * g.c * hw;
                float* a = abuf + img * v.per_image;
                for (int64_t t = 0; t < v.tpad; ++t) {
                    float* pan = a + (t / dk.mr) * panel;
                    const int i = static_cast<int>(t % dk.mr);
                    if (t >= crs) {
                        row_to_k16(nullptr, 0, v.groups_img, dk.mr, i, pan);
                        continue;
                    }
                    const int64_t c = t / rs, rr = (t - c * rs) / g.s, ss = t - c * rs - rr * g.s;
                    im2col_row(g, xn + c * hw, rr, ss, 0, pq, row);
                    row_to_k16(row, pq, v.groups_img, dk.mr, i, pan);
                }
            }
            for (int64_t tp = 0; tp < v.tpad / dk.mr; ++tp)
                for (int64_t f = f0; f < f1; f += dk.tk)
                    dk.tile(abuf + tp * panel, v.per_image, dy + (b0 * g.k + f) * pq, pq, g.k * pq, nb, v.groups_img,
                            tail, static_cast<int>(std::min<int64_t>(dk.tk, f1 - f)), out + tp * dk.mr * g.k + f,
                            g.k);
            if (dbias)
                for (int64_t f = f0; f < f1; ++f)
                    for (int64_t img = 0; img < nb; ++img) bsum[f] += row_sum(dy + ((b0 + img) * g.k + f) * pq, pq);
        }
    });
    reduce_partials(g, part, v.groups, v.tpad, g.k, dw);
    if (dbias) reduce_bias(g, bpart, v.groups, dbias);
}


void backward_weight_gemm(const Geometry& g, const float* x, const float* dy, float* dw, float* dbias);

}  // namespace

void conv2d_backward_weight(const Geometry& g, const float* x, const float* dy, float* dw, float* dbias) {
    if (conv::w_size(g) == 0) return;
    if (g.n == 0) {  // an empty batch has zero gradients, not untouched ones
        std::fill(dw, dw + conv::w_size(g), 0.0f);
        if (dbias) std::fill(dbias, dbias + g.k, 0.0f);
        return;
    }
    const Isa& is = isa();
    if (const winograd::Kernels* wk = winograd_for(is, winograd::applies(g)))
        return winograd::backward_weight(*wk, wgrad_tile_of(*is.wgrad), g, x, dy, dw, dbias);
    const DotLayout dl = dot_layout(g, is);
    if (dl.use)
        backward_weight_dot(g, dl, x, dy, dw, dbias);
    else
        backward_weight_gemm(g, x, dy, dw, dbias);
}

namespace {

void backward_weight_gemm(const Geometry& g, const float* x, const float* dy, float* dw, float* dbias) {
    const WgradKernels& wk = *isa().wgrad;
    const WeightLayout v = weight_layout(g, wk);
    const Plan& pl = v.pl;
    const int64_t crs = pl.crs, items = g.n * pl.blocks, units = v.groups * v.chunks;
    const int64_t groups16 = pl.L / 16, mr = wk.mr, nr = wk.nr;
    float* ws = work::thread_scratch(v.shared + slots_for(units) * v.per_slot);
    float* part = ws;
    double* bpart = reinterpret_cast<double*>(ws + align16(v.groups * v.tpad * v.kp));

    run_items(units, ws + v.shared, v.per_slot, [&](float* mem, int64_t unit) {
        float* aw = mem;
        float* bw = aw + v.aw;
        float* slab = bw + v.bw;
        float* row = slab + v.slab;
        const int64_t gi = unit / v.chunks, tp0 = (unit % v.chunks) * v.cp;
        const int64_t tp1 = std::min(v.tpad / mr, tp0 + v.cp);
        const int64_t t0 = tp0 * mr, t1 = std::min(crs, tp1 * mr);
        const int64_t c_lo = t0 / pl.rs, c_hi = (t1 - 1) / pl.rs + 1;  // channels these taps read
        float* out = part + gi * v.tpad * v.kp + t0 * v.kp;
        std::fill(out, out + (tp1 - tp0) * mr * v.kp, 0.0f);
        // The group's first tap chunk also sums dy for the bias while it packs dy anyway.
        double* bsum = (dbias && tp0 == 0) ? bpart + gi * g.k : nullptr;
        if (bsum) std::fill(bsum, bsum + g.k, 0.0);

        const int64_t item_end = (gi + 1) * items / v.groups;
        for (int64_t item = gi * items / v.groups; item < item_end; ++item) {
            const int64_t ni = item / pl.blocks, j0 = (item % pl.blocks) * pl.L, len = std::min(pl.L, pl.npos - j0);
            const float* xn = x + ni * g.c * pl.hw;
            const float* dyn = dy + ni * g.k * pl.pq;

            // dy^T as B panels: B(l, f) at bw + (f / nr) * L * nr + l * nr + f % nr; zeros past len and past k.
            for (int64_t fp = 0; fp < v.kp; fp += nr) {
                const float* rows[64];
                const int nrows = static_cast<int>(std::clamp<int64_t>(g.k - fp, 0, nr));
                for (int j = 0; j < nrows; ++j) {
                    const float* src = dyn + (fp + j) * pl.pq + j0;
                    if (pl.fast && pl.pitch != g.q) {
                        dy_row_padded(dyn + (fp + j) * pl.pq, g.q, pl.wp, j0, len, row + j * pl.L);
                        src = row + j * pl.L;
                    }
                    rows[j] = src;
                    if (bsum) bsum[fp + j] += row_sum(src, len);  // padded-width rows hold zeros at throw-aways
                }
                wk.pack_b(rows, nrows, len, pl.L, bw + fp * pl.L);
            }

            int64_t off0 = 0;
            if (pl.padded) {
                const int64_t row0 = j0 / pl.wp;
                off0 = j0 - row0 * pl.wp;
                fill_slab(g, pl, xn, c_lo, c_hi, row0, slab_rows_for(g, pl, j0, len), slab, v.slab_plane);
            }
            // The unit's im2col rows as k16-interleaved A panels; rows past the last tap are zeros.
            TapWalker tp(g, t0);
            for (int64_t t = t0; t < tp1 * mr; ++t, tp.next()) {
                float* panel = aw + ((t - t0) / mr) * pl.L * mr;
                const int i = static_cast<int>((t - t0) % mr);
                if (t >= t1) {
                    wk.pack_a_row(nullptr, 0, groups16, i, panel);
                    continue;
                }
                const int64_t shift = tp.r * g.dilation_h * pl.wp + tp.s * g.dilation_w;
                const float* src;
                if (pl.padded) {
                    src = slab + (tp.c - c_lo) * v.slab_plane + off0 + shift;
                } else if (pl.fast) {
                    src = xn + tp.c * pl.hw + j0 + shift;
                } else {
                    im2col_row(g, xn + tp.c * pl.hw, tp.r, tp.s, j0, len, row);
                    src = row;
                }
                wk.pack_a_row(src, len, groups16, i, panel);
            }
            for (int64_t tp = 0; tp < tp1 - tp0; ++tp)
                for (int64_t fp = 0; fp < v.kp; fp += nr)
                    wk.tile(groups16, aw + tp * pl.L * mr, bw + fp * pl.L, out + tp * mr * v.kp + fp, v.kp);
        }
    });

    reduce_partials(g, part, v.groups, v.tpad, v.kp, dw);
    if (dbias) reduce_bias(g, bpart, v.groups, dbias);
}

}  // namespace

uint64_t conv2d_workspace_bytes(const Geometry& g) {
    if (conv::y_size(g) == 0 && conv::w_size(g) == 0) return 0;
    const Isa& is = isa();
    const ForwardLayout f = forward_layout(g, gemm_for(is, g.k));
    const DataLayout d = data_layout(g, gemm_for(is, data_rows(g)));
    const WeightLayout v = weight_layout(g, *is.wgrad);
    const DotLayout dl = dot_layout(g, is);
    const int64_t fw = f.shared + slots_for(g.n * f.pl.blocks) * f.per_slot;
    const int64_t bd = d.shared + slots_for(g.n * d.chunks) * d.per_slot;
    const int64_t bw = dl.use ? dl.shared + slots_for(dl.groups * dl.fchunks) * dl.per_slot
                              : v.shared + slots_for(v.groups * v.chunks) * v.per_slot;
    // Where the Winograd path takes a direction, the implicit GEMM's blocks for it are never allocated.
    int64_t most = winograd_for(is, winograd::applies(g))
                       ? winograd::workspace_floats(*is.gemm, wgrad_tile_of(*is.wgrad), g)
                       : std::max(fw, bw);
    if (!winograd_for(is, winograd::applies_backward_data(g))) most = std::max(most, bd);
    return static_cast<uint64_t>(most) * sizeof(float);
}

const char* conv2d_isa() { return isa().wgrad->isa; }

namespace conv2d_detail {
void force_baseline_for_testing(bool on) { g_force_baseline.store(on); }
void allow_winograd_for_testing(bool on) { g_winograd.store(on); }
const char* conv2d_algorithm(const conv::Geometry& g) {
    return winograd_for(isa(), winograd::applies(g)) ? "winograd" : "implicit-gemm";
}
}  // namespace conv2d_detail

}  // namespace kiln::cpu

// The implicit-GEMM algorithm of the CPU conv2d, for every shape: forward, backward-data and backward-weight
// (conv2d.cpp picks it, or Winograd for 3x3 stride-1 layers). Results do not depend on the thread count: every output
// element is summed in an order fixed by the shape alone.
//
// How the GEMMs are fed. The output positions of one image are cut into blocks of L; a work item is (image, block),
// and its im2col rows are written straight into the packed panel layout the micro-kernels read (implicit packing),
// in per-thread scratch of a few hundred KiB, so no full im2col matrix ever exists.
//   forward          y (k, L) = W (k, crs) * col (crs, L)        GEMM micro-kernel (sgemm.h), W packed once per call
//   backward-data    dcol (crs, L) = W^T (crs, k) * dy (k, L)    then col2im adds dcol into dx; a unit is (image,
//                                                                channel chunk), so units never add into one dx
//   backward-weight  dW^T (crs, k) += col (crs, L) * dy^T (L, k) WgradTile (conv2d_kernels.h), summed over items into
//                                                                per-group partials; few taps (c r s <= 64) take
//                                                                the dot form instead (DotTile), which reads dy in
//                                                                place rather than transposing it
// Unit stride (the common case) takes the "padded-width" layout: positions run over the rows of the zero-padded
// input (pitch wp = w + 2 pad_w) instead of the output (pitch q), which makes every im2col row one contiguous run of
// the padded input: a plain copy instead of a gather with bounds checks. The wp - q positions at the end of each row
// are computed and thrown away (or fed zeros): 3 % at 56x56, 15 % at 13x13. Other strides take the generic path
// (pitch q), whose im2col splits each row into runs against the padding using conv_geometry.h. Parallelism is over
// work items (work_items.h); the GEMM micro-kernels run single-threaded inside them.
#include <algorithm>
#include <cstring>

#include "cpu/conv2d_kernels.h"
#include "cpu/conv2d_im2col.h"
#include "cpu/parallel.h"
#include "cpu/sgemm.h"
#include "cpu/work_items.h"

namespace kiln::cpu::conv2d_detail {
namespace {

using conv::Geometry;
using gemm_detail::KernelSet;
using gemm_detail::View;
using im2col::Plan;
using im2col::TapWalker;
using im2col::col2im_row;
using im2col::copy_run;
using im2col::dy_row_padded;
using im2col::fill_slab;
using im2col::im2col_row;
using im2col::make_plan;
using im2col::row_to_k16;
using im2col::row_to_panels;
using im2col::row_sum;
using im2col::slab_rows_for;
using work::align16;
using work::balanced_block;
using work::ceil_div;
using work::round_up;
using work::run_items;
using work::slots_for;

// The GEMM tile for a product with `rows` rows: the narrow one where it pads fewer rows.
const KernelSet& gemm_for(const ConvKernels& is, int64_t rows) {
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

void gemm_forward(const ConvKernels& is, const Geometry& g, const float* x, const float* w, const float* bias, float* y) {
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

void gemm_backward_data(const ConvKernels& is, const Geometry& g, const float* dy, const float* w, float* dx) {
    const KernelSet& ks = gemm_for(is, data_rows(g));
    const DataLayout d = data_layout(g, ks);
    const Plan& pl = d.pl;
    const int64_t crs = pl.crs, units = g.n * d.chunks;
    float* ws = work::thread_scratch(d.shared + slots_for(units) * d.per_slot);
    // Throw-away positions get exact zeros from a finite W (their dy is 0); with an inf or NaN weight they get NaN,
    // which would land on a real pixel, so they are zeroed first (checked on W, which is small).
    const bool scrub = pl.fast && pl.pitch != g.q && !im2col::all_finite(w, g.k * crs);
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
                float* src = dcol + i * pl.L;
                float* pc_plane = plane + (t.c - c0) * plane_size;
                if (pl.fast) {
                    // Throw-away positions carry zeros (see scrub) and land inside the plane.
                    if (scrub) im2col::zero_throwaways(src, g.q, pl.wp, j0, len);
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

DotLayout dot_layout(const Geometry& g, const ConvKernels& is) {
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

// scrub: each padded-width im2col row is copied and its throw-away positions zeroed before packing (see
// gemm_backward_weight). Returns whether the layout has throw-away positions at all.
bool backward_weight_gemm(const ConvKernels& is, const Geometry& g, const float* x, const float* dy, float* dw,
                          float* dbias, bool scrub) {
    const WgradKernels& wk = *is.wgrad;
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
                if (scrub && pl.fast) {  // row is free: dy^T is packed already
                    copy_run(row, src, len);
                    im2col::zero_throwaways(row, g.q, pl.wp, j0, len);
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
    return pl.fast && pl.pitch != g.q;
}

}  // namespace

void gemm_backward_weight(const ConvKernels& is, const Geometry& g, const float* x, const float* dy, float* dw, float* dbias) {
    const DotLayout dl = dot_layout(g, is);
    if (dl.use) return backward_weight_dot(g, dl, x, dy, dw, dbias);
    // Throw-away positions pair x with a zero dy: exact zeros where x is finite, NaN (0 times it) where x holds an inf
    // or NaN, reaching taps that never meet that value. A NaN in dW is the sign, and a cheap one to look for; the rerun
    // zeroes them (rare: the input holds a non-finite value already). The same bits where nothing was non-finite.
    if (backward_weight_gemm(is, g, x, dy, dw, dbias, false) && !im2col::all_finite(dw, g.k * g.c * g.r * g.s))
        backward_weight_gemm(is, g, x, dy, dw, dbias, true);
}

int64_t gemm_workspace_floats(const ConvKernels& is, const Geometry& g, bool forward, bool data, bool weight) {
    int64_t most = 0;
    if (forward) {
        const ForwardLayout f = forward_layout(g, gemm_for(is, g.k));
        most = f.shared + slots_for(g.n * f.pl.blocks) * f.per_slot;
    }
    if (weight) {
        const WeightLayout v = weight_layout(g, *is.wgrad);
        const DotLayout dl = dot_layout(g, is);
        most = std::max(most, dl.use ? dl.shared + slots_for(dl.groups * dl.fchunks) * dl.per_slot
                                     : v.shared + slots_for(v.groups * v.chunks) * v.per_slot);
    }
    if (data) {
        const DataLayout d = data_layout(g, gemm_for(is, data_rows(g)));
        most = std::max(most, d.shared + slots_for(g.n * d.chunks) * d.per_slot);
    }
    return most;
}

}  // namespace kiln::cpu::conv2d_detail

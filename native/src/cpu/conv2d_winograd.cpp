// Winograd F(2x2, 3x3) driver of the CPU conv2d (see conv2d_winograd.h for the math and the tile numbering): filter
// transforms, blocking, threads, and the GEMMs between the tile transforms. Results do not depend on the thread
// count: every output is one block's work, and the weight gradient's partial sums have a count fixed by the shape.
#include "cpu/conv2d_winograd.h"

#include <algorithm>

#include "cpu/work_items.h"

namespace kiln::cpu::winograd {
namespace {

using conv::Geometry;
using conv2d_detail::WgradKernels;
using gemm_detail::KernelSet;
using gemm_detail::View;
using work::align16;
using work::ceil_div;
using work::round_up;

constexpr int kXi = 16;  // the 4 x 4 transformed tile
// V and M of a forward block (floats), 768 KiB: measured best of 192 KiB .. 1.5 MiB on the CNN's second layer
// (both directions) and ResNet 3x3 with two threads. Longer blocks amortize each block's chunk preparation and filter
// reads; longer still spill the L2 (1 MiB here).
constexpr int64_t kForwardBlockFloats = 196608;
// dM and V of a backward-weight block (floats), 512 KiB: measured best of 256 KiB, 512 KiB and 1 MiB on the same
// layers (the partial dU of 16 x K x C floats stays hot beside it).
constexpr int64_t kWeightBlockFloats = 131072;
// Stride between the 16 xi matrices of a block: whole cache lines, an odd number of them. The transforms touch the
// same place of all 16 at once, and a stride that is a multiple of 4 KiB (64 channels x 48 tiles is 12 KiB) would put
// all 16 lines in one L1 set, which holds 12.
int64_t xi_pitch(int64_t floats) {
    const int64_t lines = work::ceil_div(floats, 16);
    return (lines | 1) * 16;
}
constexpr int64_t kNoGroup = int64_t(1) << 62;  // a Layout row or slot group larger than any count
constexpr int64_t kChunkFloats = (sizeof(Chunk) + sizeof(float) - 1) / sizeof(float);

// A forward-shaped problem: y (n, kout, p, q) from x (n, cin, h, w) and filters through U.
struct Problem {
    int64_t n, cin, h, w, kout, p, q;
    int pad_h, pad_w;
};

struct Grid {
    int64_t th, tw, per_image, total;
};

Grid grid_of(int64_t n, int64_t p, int64_t q) {
    Grid gr;
    gr.th = ceil_div(p, 2);
    gr.tw = ceil_div(q, 2);
    gr.per_image = gr.th * gr.tw;
    gr.total = n * gr.per_image;
    return gr;
}

// Tiles [t0, t0 + len) of the grid as chunks (conv2d_winograd.h), none crossing a multiple of `group` slots (16, or
// the layout's slot group where that is a multiple of 16: fewer cuts, fuller vectors); returns how many. out holds
// len chunks at most.
int64_t make_chunks(const Grid& gr, int64_t t0, int64_t len, int64_t group, Chunk* out) {
    // The half starting at block slot s: at most `room` tiles, up to the end of its tile row.
    auto half_at = [&](int64_t s, int64_t room) {
        const int64_t t = t0 + s, img = t / gr.per_image, rem = t - img * gr.per_image;
        const int64_t tr = rem / gr.tw, tc = rem - tr * gr.tw;
        const int64_t n = std::min({int64_t(8), gr.tw - tc, len - s, room});
        return Half{img, static_cast<int32_t>(tr), static_cast<int32_t>(tc), static_cast<int32_t>(std::max<int64_t>(n, 0))};
    };
    int64_t count = 0;
    for (int64_t s = 0; s < len;) {
        const int64_t room = std::min<int64_t>(16, group - s % group);
        Chunk ch;
        ch.slot = static_cast<int32_t>(s);
        ch.a = half_at(s, room);
        ch.b = s + ch.a.n < len && room > ch.a.n ? half_at(s + ch.a.n, room - ch.a.n) : Half{0, 0, 0, 0};
        out[count++] = ch;
        s += ch.a.n + ch.b.n;
    }
    return count;
}

// U[xi] (rows, cols) = G g G^T, for the 3x3 filter g of (row, col) at w + row * rstride + col * cstride, read
// rotated by 180 degrees when `flip` (backward-data's filters). u holds 16 * rows * cols floats.
void transform_filters(const float* w, int64_t rows, int64_t cols, int64_t rstride, int64_t cstride, bool flip,
                       float* u) {
    const int64_t plane = rows * cols;
    for (int64_t row = 0; row < rows; ++row)
        for (int64_t col = 0; col < cols; ++col) {
            const float* src = w + row * rstride + col * cstride;
            float g[3][3], t[4][3];
            for (int r = 0; r < 3; ++r)
                for (int s = 0; s < 3; ++s) g[r][s] = flip ? src[(2 - r) * 3 + (2 - s)] : src[r * 3 + s];
            for (int s = 0; s < 3; ++s) {
                t[0][s] = g[0][s];
                t[1][s] = 0.5f * (g[0][s] + g[1][s] + g[2][s]);
                t[2][s] = 0.5f * (g[0][s] - g[1][s] + g[2][s]);
                t[3][s] = g[2][s];
            }
            float* dst = u + row * cols + col;
            for (int i = 0; i < 4; ++i) {
                dst[(4 * i + 0) * plane] = t[i][0];
                dst[(4 * i + 1) * plane] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
                dst[(4 * i + 2) * plane] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
                dst[(4 * i + 3) * plane] = t[i][2];
            }
        }
}

// ---- forward (and backward-data through it) ----------------------------------------------------------------------

struct ForwardLayout {
    Grid grid;
    int64_t kpad, kc;           // output channels to whole A panels; GEMM depth block over the input channels
    int64_t panels, T, items;   // B panels per block, tiles per block (panels * nr), blocks
    int64_t u, upk, shared;     // raw U (16, kout, cin), packed U (16 * kpad * cin)
    int64_t vxi, mxi;           // xi strides of V (cin, T) and M (kpad, T)
    int64_t v, m, chunks, per_slot;
};

ForwardLayout forward_layout(const KernelSet& ks, const Problem& pr) {
    ForwardLayout f{};
    f.grid = grid_of(pr.n, pr.p, pr.q);
    f.kpad = round_up(pr.kout, ks.mr);
    f.kc = work::balanced_block(pr.cin, ks.kc, 1);
    f.panels = std::clamp<int64_t>(kForwardBlockFloats / (kXi * (pr.cin + f.kpad) * ks.nr), 1, 6);
    f.panels = std::min(f.panels, ceil_div(f.grid.total, ks.nr));
    f.T = f.panels * ks.nr;
    f.items = ceil_div(f.grid.total, f.T);
    f.u = align16(kXi * pr.kout * pr.cin);
    f.upk = align16(kXi * f.kpad * pr.cin);
    f.shared = f.u + f.upk;
    f.vxi = xi_pitch(pr.cin * f.T);
    f.mxi = xi_pitch(f.kpad * f.T);
    f.v = kXi * f.vxi;
    f.m = kXi * f.mxi + 16;  // + 16: the output transform reads whole vectors from any slot
    f.chunks = align16(f.T * kChunkFloats);
    f.per_slot = f.v + f.m + f.chunks;
    return f;
}

// The filters through `transform`-ready strides (see transform_filters) for the problem's (kout, cin) pairs.
struct Filters {
    const float* w;
    int64_t rstride, cstride;
    bool flip;
};

void run_forward(const Kernels& wk, const KernelSet& ks, const Problem& pr, const float* x, const Filters& fl,
                 const float* bias, float* y) {
    const ForwardLayout f = forward_layout(ks, pr);
    const int64_t mr = ks.mr, nr = ks.nr, hw = pr.h * pr.w, pq = pr.p * pr.q;
    float* ws = work::thread_scratch(f.shared + work::slots_for(f.items) * f.per_slot);
    float* u = ws;
    float* upk = ws + f.u;  // per xi: A blocks (kpad, kb) for each depth block, as the forward GEMM packs W
    transform_filters(fl.w, pr.kout, pr.cin, fl.rstride, fl.cstride, fl.flip, u);
    for (int xi = 0; xi < kXi; ++xi)
        for (int64_t pc = 0; pc < pr.cin; pc += f.kc)
            ks.pack_a(View{u + xi * pr.kout * pr.cin + pc, pr.cin, 1}, pr.kout, std::min(f.kc, pr.cin - pc),
                      upk + xi * f.kpad * pr.cin + f.kpad * pc);

    // V as GEMM B panels: panel pp of xi is (cin, nr) row-major at v + xi * vxi + pp * cin * nr.
    const Layout vlay{kNoGroup, 0, nr, nr, pr.cin * nr, f.vxi};
    const Layout mlay{kNoGroup, 0, f.T, f.T, 0, f.mxi};  // M[xi] is (kpad, T) row-major
    const Planes xp{pr.cin * hw, hw, pr.cin, pr.h, pr.w}, yp{pr.kout * pq, pq, pr.kout, pr.p, pr.q};
    work::run_items(f.items, ws + f.shared, f.per_slot, [&](float* mem, int64_t item) {
        float* v = mem;
        float* m = v + f.v;
        Chunk* chunks = reinterpret_cast<Chunk*>(m + f.m);
        const int64_t t0 = item * f.T, len = std::min(f.T, f.grid.total - t0), used = ceil_div(len, nr);
        const int64_t nch = make_chunks(f.grid, t0, len, nr, chunks);

        wk.input(x, xp, pr.pad_h, pr.pad_w, chunks, nch, v, vlay);
        if (const int64_t tail = len % nr) {  // the last panel's missing tiles: zeros, not stale scratch
            for (int xi = 0; xi < kXi; ++xi) {
                float* last = v + xi * vlay.xi_stride + (used - 1) * pr.cin * nr;
                for (int64_t c = 0; c < pr.cin; ++c) std::fill(last + c * nr + tail, last + c * nr + nr, 0.0f);
            }
        }

        for (int xi = 0; xi < kXi; ++xi)
            for (int64_t pp = 0; pp < used; ++pp)
                for (int64_t pc = 0; pc < pr.cin; pc += f.kc) {
                    const int64_t kb = std::min(f.kc, pr.cin - pc);
                    const float* a = upk + xi * f.kpad * pr.cin + f.kpad * pc;
                    const float* b = v + xi * vlay.xi_stride + pp * pr.cin * nr + pc * nr;
                    float* c = m + xi * mlay.xi_stride + pp * nr;
                    const float beta = pc == 0 ? 0.0f : 1.0f;
                    for (int64_t kr = 0; kr < f.kpad; kr += mr)
                        ks.micro(kb, a + kr * kb, b, c + kr * f.T, f.T, 1.0f, beta, static_cast<int>(mr),
                                 static_cast<int>(nr));
                }

        wk.output(m, mlay, chunks, nch, bias, y, yp);
    });
}

Problem forward_problem(const Geometry& g) {
    return Problem{g.n, g.c, g.h, g.w, g.k, g.p, g.q, g.pad_h, g.pad_w};
}

// dx is the forward of dy with the flipped, transposed filters: a "full" correlation, padding 2 - pad.
Problem backward_data_problem(const Geometry& g) {
    return Problem{g.n, g.k, g.p, g.q, g.c, g.h, g.w, 2 - g.pad_h, 2 - g.pad_w};
}

// ---- backward-weight ----------------------------------------------------------------------------------------------

struct WeightLayout {
    Grid grid;
    int64_t kpad, cpad;           // filters to whole A panels (rows), channels to whole B panels (columns)
    int64_t T, items, groups;     // tiles per block (a multiple of 16), blocks, partial sums
    int64_t part, bias, shared;   // partial dU (groups, 16, kpad, cpad); bias partials (groups, k) doubles
    int64_t dmxi, vxi;            // xi strides of dM (kpad, T) and V (c, T)
    int64_t dm, v, bw, chunks, per_slot;
};

WeightLayout weight_layout(const WgradKernels& wt, const Geometry& g) {
    WeightLayout v{};
    v.grid = grid_of(g.n, g.p, g.q);
    v.kpad = round_up(g.k, wt.mr);
    v.cpad = round_up(g.c, wt.nr);
    v.T = std::clamp<int64_t>(kWeightBlockFloats / (kXi * (v.kpad + g.c)) / 16 * 16, 16, 512);
    v.T = std::min(v.T, round_up(v.grid.total, 16));
    v.items = ceil_div(v.grid.total, v.T);
    // Partials are summed in group order at the end; their count is fixed by the shape (never by the threads) so
    // the result is too. Eight keep every thread of a small machine busy and the final sum cheap.
    v.groups = std::clamp<int64_t>((int64_t(1) << 22) / (kXi * v.kpad * v.cpad), 1, std::min<int64_t>(8, v.items));
    v.part = align16(v.groups * kXi * v.kpad * v.cpad);
    v.bias = align16(2 * v.groups * g.k);
    v.shared = v.part + v.bias;
    v.dmxi = xi_pitch(v.kpad * v.T);
    v.vxi = xi_pitch(g.c * v.T);
    v.dm = kXi * v.dmxi;
    v.v = kXi * v.vxi;
    v.bw = align16(v.T * wt.nr);
    v.chunks = align16(v.T * kChunkFloats);
    v.per_slot = v.dm + v.v + v.bw + v.chunks;
    return v;
}

// Sum of a 16-float group's first n floats in a fixed order, into a double.
double group_sum(const float* p, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i) s += p[i];
    return s;
}

}  // namespace

bool applies(const Geometry& g, Direction d) {
    return g.r == 3 && g.s == 3 && g.stride_h == 1 && g.stride_w == 1 && g.dilation_h == 1 && g.dilation_w == 1 &&
           g.p > 0 && g.q > 0 && (d != Direction::data || (g.pad_h <= 2 && g.pad_w <= 2));
}

bool pays(const Kernels& wk, const Geometry& g, Direction d) {
    const Reach& r = d == Direction::forward ? wk.forward : d == Direction::data ? wk.data : wk.weight;
    return applies(g, d) && g.c >= r.min_c && g.k >= r.min_k && std::min(g.pad_h, g.pad_w) >= r.min_pad;
}

void forward(const Kernels& wk, const KernelSet& ks, const Geometry& g, const float* x, const float* w,
             const float* bias, float* y) {
    const Problem pr = forward_problem(g);
    run_forward(wk, ks, pr, x, Filters{w, g.c * 9, 9, false}, bias, y);
}

void backward_data(const Kernels& wk, const KernelSet& ks, const Geometry& g, const float* dy, const float* w,
                   float* dx) {
    // Filter (row = input channel c, col = output channel k) of the flipped problem is w[k][c], rotated.
    run_forward(wk, ks, backward_data_problem(g), dy, Filters{w, 9, g.c * 9, true}, nullptr, dx);
}

void backward_weight(const Kernels& wk, const WgradKernels& wt, const Geometry& g, const float* x, const float* dy,
                     float* dw, float* dbias) {
    const WeightLayout v = weight_layout(wt, g);
    const int64_t mr = wt.mr, nr = wt.nr, hw = g.h * g.w, pq = g.p * g.q, plane = v.kpad * v.cpad;
    float* ws = work::thread_scratch(v.shared + work::slots_for(v.groups) * v.per_slot);
    float* part = ws;
    double* bpart = reinterpret_cast<double*>(ws + v.part);

    // dM as the tile's k16-interleaved A panels: row k at (k / mr) * T * mr + (k % mr) * 16, 16-slot groups mr * 16
    // apart. V as plain rows (c, T), which pack_b transposes into B panels (L, nr).
    const Layout alay{mr, v.T * mr, 16, 16, mr * 16, v.dmxi};
    const Layout vlay{kNoGroup, 0, v.T, v.T, 0, v.vxi};
    const Planes xp{g.c * hw, hw, g.c, g.h, g.w}, dyp{g.k * pq, pq, g.k, g.p, g.q};
    work::run_items(v.groups, ws + v.shared, v.per_slot, [&](float* mem, int64_t gi) {
        float* dm = mem;
        float* vv = dm + v.dm;
        float* bw = vv + v.v;
        Chunk* chunks = reinterpret_cast<Chunk*>(bw + v.bw);
        float* out = part + gi * kXi * plane;
        double* bsum = bpart + gi * g.k;
        std::fill(out, out + kXi * plane, 0.0f);
        std::fill(bsum, bsum + g.k, 0.0);
        std::fill(dm, dm + v.dm, 0.0f);  // the pad rows stay zero; the transforms never write them

        const int64_t item_end = (gi + 1) * v.items / v.groups;
        for (int64_t item = gi * v.items / v.groups; item < item_end; ++item) {
            const int64_t t0 = item * v.T, len = std::min(v.T, v.grid.total - t0), L = round_up(len, 16);
            const int64_t nch = make_chunks(v.grid, t0, len, 16, chunks);
            wk.grad_output(dy, dyp, chunks, nch, dm, alay);
            if (len < L)  // the last group's missing tiles must add nothing: zeros in A (B gets them from pack_b)
                for (int xi = 0; xi < kXi; ++xi)
                    for (int64_t k = 0; k < v.kpad; ++k) {
                        float* grp = dm + xi * alay.xi_stride + alay.at(k, L - 16);
                        std::fill(grp + (len - (L - 16)), grp + 16, 0.0f);
                    }
            wk.input(x, xp, g.pad_h, g.pad_w, chunks, nch, vv, vlay);

            // The bias gradient is the sum of dy, and dM[5] = dM(1, 1) of a tile is the sum of its four dy values.
            if (dbias)
                for (int64_t k = 0; k < g.k; ++k) {
                    const float* m5 = dm + 5 * alay.xi_stride;
                    for (int64_t s = 0; s < len; s += 16)
                        bsum[k] += group_sum(m5 + alay.at(k, s), std::min<int64_t>(16, len - s));
                }

            for (int xi = 0; xi < kXi; ++xi)
                for (int64_t cp = 0; cp < g.c; cp += nr) {
                    const float* rows[64];
                    const int nrows = static_cast<int>(std::min<int64_t>(nr, g.c - cp));
                    for (int j = 0; j < nrows; ++j) rows[j] = vv + xi * vlay.xi_stride + (cp + j) * v.T;
                    wt.pack_b(rows, nrows, len, L, bw);
                    for (int64_t kp = 0; kp < v.kpad; kp += mr)
                        wt.tile(L / 16, dm + xi * alay.xi_stride + (kp / mr) * v.T * mr, bw,
                                out + xi * plane + kp * v.cpad + cp, v.cpad);
                }
        }
    });

    // dw = G^T (sum of the partials, in group order) G, one (k, c) pair at a time.
    parallel_for(g.k * g.c, [&](int64_t begin, int64_t end) {
        for (int64_t kc = begin; kc < end; ++kc) {
            const int64_t k = kc / g.c, c = kc - k * g.c;
            float du[4][4];
            for (int xi = 0; xi < kXi; ++xi) {
                const float* p = part + xi * plane + k * v.cpad + c;
                float s = p[0];
                for (int64_t gi = 1; gi < v.groups; ++gi) s += p[gi * kXi * plane];
                du[xi / 4][xi % 4] = s;
            }
            float t[3][4];
            for (int j = 0; j < 4; ++j) {
                t[0][j] = du[0][j] + 0.5f * (du[1][j] + du[2][j]);
                t[1][j] = 0.5f * (du[1][j] - du[2][j]);
                t[2][j] = 0.5f * (du[1][j] + du[2][j]) + du[3][j];
            }
            float* o = dw + kc * 9;
            for (int r = 0; r < 3; ++r) {
                o[r * 3 + 0] = t[r][0] + 0.5f * (t[r][1] + t[r][2]);
                o[r * 3 + 1] = 0.5f * (t[r][1] - t[r][2]);
                o[r * 3 + 2] = 0.5f * (t[r][1] + t[r][2]) + t[r][3];
            }
        }
    }, 16);
    if (dbias)
        for (int64_t k = 0; k < g.k; ++k) {
            double s = 0.0;
            for (int64_t gi = 0; gi < v.groups; ++gi) s += bpart[gi * g.k + k];
            dbias[k] = static_cast<float>(s);
        }
}

int64_t workspace_floats(const KernelSet& ks, const WgradKernels& wt, const Geometry& g, bool forward, bool data,
                         bool weight) {
    int64_t most = 0;
    if (forward) {
        const ForwardLayout f = forward_layout(ks, forward_problem(g));
        most = f.shared + work::slots_for(f.items) * f.per_slot;
    }
    if (weight) {
        const WeightLayout v = weight_layout(wt, g);
        most = std::max(most, v.shared + work::slots_for(v.groups) * v.per_slot);
    }
    if (data) {
        const ForwardLayout d = forward_layout(ks, backward_data_problem(g));
        most = std::max(most, d.shared + work::slots_for(d.items) * d.per_slot);
    }
    return most;
}

}  // namespace kiln::cpu::winograd

// Tests of the 2-D max/avg pooling entries on a CPU context, through the C ABI: forwards against naive
// double-precision references written here (max: value and argmax index exactly), both backwards against central
// finite differences of those references (max pool on tie-free inputs), overlapping windows, padding that must never
// win, NaN propagation, and the validation messages.
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "common/pool_geometry.h"
#include "cpu/pool_simd.h"
#include "kiln/kiln.h"

using kiln::test::all_close;
using kiln::test::dot;
using kiln::test::grad_matches;
using kiln::test::message_has;
using kiln::test::uniform;
using kiln::test::widen;

// Finite-difference settings of this file's gradient checks.
const kiln::test::FiniteDifference kFd{};

namespace {

kiln_context* g_ctx = nullptr;
const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Distinct values spaced 1/64 apart in a shuffled order: no two elements of any window tie, and a finite-difference
// step of 1e-4 can never change a window's argmax.
std::vector<float> tie_free(size_t n, uint64_t seed) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = ((float)i - (float)n / 2) / 64.0f;
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = n; i > 1; --i) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        std::swap(v[i - 1], v[(size_t)((s >> 33) % i)]);
    }
    return v;
}

// ---- descriptors and double references ---------------------------------------------------------------------------

struct Cfg {
    int64_t n, c, h, w;
    int32_t k, s, pad;
};

kiln_pool2d_desc make_desc(const Cfg& g) {
    kiln_pool2d_desc d{};
    d.n = g.n;
    d.c = g.c;
    d.h = g.h;
    d.w = g.w;
    d.kernel_h = d.kernel_w = g.k;
    d.stride_h = d.stride_w = g.s;
    d.pad_h = d.pad_w = g.pad;
    d.p = (g.h + 2 * g.pad - g.k) / g.s + 1;
    d.q = (g.w + 2 * g.pad - g.k) / g.s + 1;
    return d;
}

std::string name_of(const Cfg& g) {
    return "(" + std::to_string(g.n) + "," + std::to_string(g.c) + "," + std::to_string(g.h) + "," +
           std::to_string(g.w) + ") k" + std::to_string(g.k) + " s" + std::to_string(g.s) + " p" +
           std::to_string(g.pad);
}

// Max over each window's in-bounds elements; the first NaN wins, else the first maximum in (row, col) order.
void ref_max_pool(const kiln_pool2d_desc& d, const std::vector<double>& x, std::vector<double>* y,
                  std::vector<int32_t>* index) {
    y->assign(d.n * d.c * d.p * d.q, 0.0);
    if (index) index->assign(y->size(), -1);
    for (int64_t pl = 0; pl < d.n * d.c; ++pl)
        for (int64_t oh = 0; oh < d.p; ++oh)
            for (int64_t ow = 0; ow < d.q; ++ow) {
                double best = 0;
                int64_t arg = -1;
                for (int64_t r = oh * d.stride_h - d.pad_h; r < oh * d.stride_h - d.pad_h + d.kernel_h; ++r)
                    for (int64_t c = ow * d.stride_w - d.pad_w; c < ow * d.stride_w - d.pad_w + d.kernel_w; ++c) {
                        if (r < 0 || r >= d.h || c < 0 || c >= d.w) continue;
                        const double v = x[(pl * d.h + r) * d.w + c];
                        if (arg < 0 || (!std::isnan(best) && (v > best || std::isnan(v)))) {
                            best = v;
                            arg = r * d.w + c;
                        }
                    }
                const int64_t o = (pl * d.p + oh) * d.q + ow;
                (*y)[o] = best;
                if (index) (*index)[o] = (int32_t)arg;
            }
}

std::vector<double> ref_avg_pool(const kiln_pool2d_desc& d, const std::vector<double>& x, bool include_pad) {
    std::vector<double> y(d.n * d.c * d.p * d.q);
    for (int64_t pl = 0; pl < d.n * d.c; ++pl)
        for (int64_t oh = 0; oh < d.p; ++oh)
            for (int64_t ow = 0; ow < d.q; ++ow) {
                double s = 0;
                int64_t count = 0;
                for (int64_t r = oh * d.stride_h - d.pad_h; r < oh * d.stride_h - d.pad_h + d.kernel_h; ++r)
                    for (int64_t c = ow * d.stride_w - d.pad_w; c < ow * d.stride_w - d.pad_w + d.kernel_w; ++c) {
                        if (r < 0 || r >= d.h || c < 0 || c >= d.w) continue;
                        s += x[(pl * d.h + r) * d.w + c];
                        ++count;
                    }
                y[(pl * d.p + oh) * d.q + ow] = s / (double)(include_pad ? d.kernel_h * d.kernel_w : count);
            }
    return y;
}

const Cfg kConfigs[] = {
    {1, 3, 13, 13, 2, 2, 0}, {1, 3, 13, 13, 2, 2, 1}, {1, 7, 13, 13, 3, 1, 1}, {1, 7, 13, 13, 3, 2, 1},
    {2, 3, 13, 9, 3, 3, 0},  {2, 3, 9, 13, 3, 2, 0},  {1, 3, 28, 28, 2, 2, 0}, {1, 3, 28, 28, 3, 3, 1},
    {1, 1, 28, 28, 3, 1, 0}, {2, 2, 5, 7, 2, 1, 1},   {1, 1, 1, 1, 1, 1, 0},   {1, 2, 2, 3, 3, 1, 1},
    {3, 1, 11, 6, 2, 3, 1},  {1, 1, 3, 1100, 3, 1, 1},  // a row longer than the CPU backward's 512-output block
};

// ---- max pool ------------------------------------------------------------------------------------------------------

void max_pool_forward_and_backward() {
    for (const Cfg& g : kConfigs) {
        const kiln_pool2d_desc d = make_desc(g);
        const std::string name = name_of(g);
        const size_t nx = d.n * d.c * d.h * d.w, ny = d.n * d.c * d.p * d.q;
        const std::vector<float> x = tie_free(nx, nx + g.k * 7 + g.s);
        std::vector<float> y(ny, kNaN);
        std::vector<int32_t> index(ny, -7);
        EXPECT(kiln_max_pool2d_f32(g_ctx, &d, x.data(), y.data(), index.data()) == KILN_OK);
        std::vector<double> want;
        std::vector<int32_t> want_index;
        ref_max_pool(d, widen(x), &want, &want_index);
        EXPECT(all_close("max_pool " + name, y, want, 0.0, 0.0));
        EXPECT(index == want_index);

        // L(x) = sum w * maxpool(x); dx starts as NaN so an element the backward forgets to assign fails.
        const std::vector<float> w = uniform(ny, 3 + nx);
        std::vector<float> dx(nx, kNaN);
        EXPECT(kiln_max_pool2d_backward_f32(g_ctx, &d, w.data(), index.data(), dx.data()) == KILN_OK);
        auto L = [&](const std::vector<double>& xd) {
            std::vector<double> yd;
            ref_max_pool(d, xd, &yd, nullptr);
            return dot(yd, w);
        };
        EXPECT(grad_matches("max_pool_backward " + name, L, widen(x), dx, kFd));
    }
}

// Padding is -inf: an all-negative input keeps its negative maxima and real indices.
void max_pool_padding_never_wins() {
    const Cfg g{1, 2, 5, 5, 3, 2, 1};
    const kiln_pool2d_desc d = make_desc(g);
    std::vector<float> x = uniform(50, 11, -9.0f, -1.0f);
    std::vector<float> y(d.n * d.c * d.p * d.q);
    std::vector<int32_t> index(y.size());
    EXPECT(kiln_max_pool2d_f32(g_ctx, &d, x.data(), y.data(), index.data()) == KILN_OK);
    bool ok = true;
    for (size_t o = 0; o < y.size(); ++o) {
        const int64_t plane = (int64_t)o / (d.p * d.q);
        ok &= y[o] < 0.0f && index[o] >= 0 && index[o] < 25 && x[plane * 25 + index[o]] == y[o];
    }
    EXPECT(ok);

    // An all -inf window still reports a position inside it (its first in-bounds element).
    std::vector<float> ninf(50, -std::numeric_limits<float>::infinity());
    EXPECT(kiln_max_pool2d_f32(g_ctx, &d, ninf.data(), y.data(), index.data()) == KILN_OK);
    EXPECT(std::isinf(y[0]) && y[0] < 0 && index[0] == 0);
    EXPECT(index[1] == 1);  // window of (0, 1) starts at column 1 (2*1 - 1)
}

// NaN propagates, like PyTorch; ties keep the first element in window order.
void max_pool_nan_and_ties() {
    const Cfg g{1, 1, 4, 4, 2, 2, 0};
    const kiln_pool2d_desc d = make_desc(g);
    std::vector<float> x(16, 1.0f);
    x[5] = kNaN;            // window (0, 0) holds positions 0, 1, 4, 5
    x[10] = x[11] = 3.0f;   // window (1, 1) holds 10, 11, 14, 15: a tie
    std::vector<float> y(4);
    std::vector<int32_t> index(4);
    EXPECT(kiln_max_pool2d_f32(g_ctx, &d, x.data(), y.data(), index.data()) == KILN_OK);
    EXPECT(std::isnan(y[0]) && index[0] == 5);
    EXPECT(y[1] == 1.0f && index[1] == 2);
    EXPECT(y[3] == 3.0f && index[3] == 10);
}

// Overlapping windows (stride < kernel): an input that wins several windows gets the sum of their gradients.
void max_pool_overlap_accumulates() {
    const Cfg g{1, 1, 3, 3, 2, 1, 0};
    const kiln_pool2d_desc d = make_desc(g);  // 2x2 outputs, every window holds the centre
    std::vector<float> x(9, 0.0f);
    x[4] = 5.0f;
    std::vector<float> y(4);
    std::vector<int32_t> index(4);
    EXPECT(kiln_max_pool2d_f32(g_ctx, &d, x.data(), y.data(), index.data()) == KILN_OK);
    EXPECT(index[0] == 4 && index[1] == 4 && index[2] == 4 && index[3] == 4);
    const std::vector<float> dy = {1.0f, 2.0f, 4.0f, 8.0f};
    std::vector<float> dx(9, kNaN);
    EXPECT(kiln_max_pool2d_backward_f32(g_ctx, &d, dy.data(), index.data(), dx.data()) == KILN_OK);
    EXPECT(dx[4] == 15.0f);
    bool others_zero = true;
    for (int i = 0; i < 9; ++i) others_zero &= i == 4 || dx[i] == 0.0f;
    EXPECT(others_zero);
    // A corrupt index (outside the plane, or outside its own window) is ignored instead of writing out of bounds.
    // 3 = (1, 0) lies outside the columns [1, 3) of output (0, 1)'s window, 7 = (2, 1) outside the rows of (0, 0)'s.
    std::vector<int32_t> bad = {7, 3, 9, -1};
    EXPECT(kiln_max_pool2d_backward_f32(g_ctx, &d, dy.data(), bad.data(), dx.data()) == KILN_OK);
    bool all_zero = true;
    for (int i = 0; i < 9; ++i) all_zero &= dx[i] == 0.0f;
    EXPECT(all_zero);
}

// The vector rows (AVX-512 or AVX2) of the 2x2 stride-2 pool against the generic loops: the same bits, indices and gradients on data
// with NaNs, ties, signed zeros and infinities, on odd sizes and rows longer than one vector; corrupt indices are
// ignored by both.
void max_pool_fast_path_matches_generic() {
    const Cfg shapes[] = {{2, 3, 13, 13, 2, 2, 0}, {1, 2, 28, 28, 2, 2, 0}, {1, 1, 7, 70, 2, 2, 0},
                          {3, 2, 5, 33, 2, 2, 0},  {1, 1, 2, 2, 2, 2, 0},   {1, 1, 3, 3, 2, 2, 0}};
    for (const Cfg& g : shapes) {
        const kiln_pool2d_desc d = make_desc(g);
        const size_t nx = d.n * d.c * d.h * d.w, ny = d.n * d.c * d.p * d.q;
        std::vector<float> x = uniform(nx, 41 + nx, -2.0f, 2.0f);
        for (size_t i = 0; i < nx; i += 7) x[i] = std::round(x[i]);  // ties
        for (size_t i = 3; i < nx; i += 29) x[i] = kNaN;
        for (size_t i = 5; i < nx; i += 31) x[i] = -0.0f;
        for (size_t i = 11; i < nx; i += 37) x[i] = -std::numeric_limits<float>::infinity();
        std::vector<float> dy = uniform(ny, 43 + ny);
        for (size_t i = 0; i < ny; i += 9) dy[i] = -0.0f;
        std::vector<float> y[2], dx[2];
        std::vector<int32_t> index[2];
        for (int generic = 0; generic < 2; ++generic) {
            kiln::cpu::pool_detail::force_generic_for_testing(generic == 1);
            y[generic].assign(ny, 7.0f);
            index[generic].assign(ny, -7);
            dx[generic].assign(nx, kNaN);
            EXPECT(kiln_max_pool2d_f32(g_ctx, &d, x.data(), y[generic].data(), index[generic].data()) == KILN_OK);
            EXPECT(kiln_max_pool2d_backward_f32(g_ctx, &d, dy.data(), index[generic].data(), dx[generic].data()) ==
                   KILN_OK);
        }
        kiln::cpu::pool_detail::force_generic_for_testing(false);
        const std::string name = name_of(g);
        if (std::memcmp(y[0].data(), y[1].data(), ny * 4) != 0 || index[0] != index[1] ||
            std::memcmp(dx[0].data(), dx[1].data(), nx * 4) != 0) {
            std::printf("  max_pool fast path %s differs from the generic loops\n", name.c_str());
            EXPECT(false);
        }
        // Corrupt indices: another window's element, outside the plane, negative.
        std::vector<int32_t> bad = index[0];
        for (size_t o = 0; o < ny; o += 3) bad[o] = (o % 2) ? -1 : (int32_t)(d.h * d.w + o);
        if (ny > 1) bad[1] = index[0][0];
        for (int generic = 0; generic < 2; ++generic) {
            kiln::cpu::pool_detail::force_generic_for_testing(generic == 1);
            dx[generic].assign(nx, kNaN);
            EXPECT(kiln_max_pool2d_backward_f32(g_ctx, &d, dy.data(), bad.data(), dx[generic].data()) == KILN_OK);
        }
        kiln::cpu::pool_detail::force_generic_for_testing(false);
        EXPECT(std::memcmp(dx[0].data(), dx[1].data(), nx * 4) == 0);
    }
}

// ---- avg pool ------------------------------------------------------------------------------------------------------

void avg_pool_forward_and_backward() {
    for (const Cfg& g : kConfigs) {
        for (bool include : {false, true}) {
            const kiln_pool2d_desc d = make_desc(g);
            const std::string name = name_of(g) + (include ? " include_pad" : " exclude_pad");
            const size_t nx = d.n * d.c * d.h * d.w, ny = d.n * d.c * d.p * d.q;
            const std::vector<float> x = uniform(nx, nx + 5 * g.k + g.pad);
            std::vector<float> y(ny, kNaN);
            EXPECT(kiln_avg_pool2d_f32(g_ctx, &d, x.data(), y.data(), include) == KILN_OK);
            EXPECT(all_close("avg_pool " + name, y, ref_avg_pool(d, widen(x), include), 1e-6, 1e-7));

            const std::vector<float> w = uniform(ny, 17 + ny);
            std::vector<float> dx(nx, kNaN);
            EXPECT(kiln_avg_pool2d_backward_f32(g_ctx, &d, w.data(), dx.data(), include) == KILN_OK);
            auto L = [&](const std::vector<double>& xd) { return dot(ref_avg_pool(d, xd, include), w); };
            EXPECT(grad_matches("avg_pool_backward " + name, L, widen(x), dx, kFd));
        }
    }
}

// The two pad modes differ exactly at the border: a corner window of k3 p1 sees 4 of its 9 cells.
void avg_pool_pad_modes() {
    const Cfg g{1, 1, 3, 3, 3, 1, 1};
    const kiln_pool2d_desc d = make_desc(g);
    const std::vector<float> x(9, 1.0f);
    std::vector<float> y(9);
    EXPECT(kiln_avg_pool2d_f32(g_ctx, &d, x.data(), y.data(), 0) == KILN_OK);
    EXPECT(y[0] == 1.0f && y[4] == 1.0f);
    EXPECT(kiln_avg_pool2d_f32(g_ctx, &d, x.data(), y.data(), 1) == KILN_OK);
    EXPECT(y[0] == 4.0f / 9.0f && y[1] == 6.0f / 9.0f && y[4] == 1.0f);
}

// ---- the GPU's loop order, emulated on the host --------------------------------------------------------------------

// kernels/pool.cu computes each output (forward) or each input element (backward) on its own, in the loop order
// mirrored below and with the same helpers; the CPU backend reorders its loops to vectorize but claims the same bits.
// These mirrors check that claim on a machine without a GPU (the parity run checks it against the real kernels).
kiln::PoolGeom geom_of(const kiln_pool2d_desc& d) {
    return kiln::PoolGeom{d.h, d.w, d.p, d.q, d.kernel_h, d.kernel_w, d.stride_h, d.stride_w, d.pad_h, d.pad_w};
}

void gpu_order_forward(const kiln_pool2d_desc& d, const std::vector<float>& x, bool max, bool include,
                       std::vector<float>* y, std::vector<int32_t>* index) {
    const kiln::PoolGeom g = geom_of(d);
    y->assign(d.n * d.c * d.p * d.q, 0.0f);
    index->assign(y->size(), 0);
    for (size_t k = 0; k < y->size(); ++k) {
        const int64_t plane = (int64_t)k / (d.p * d.q), oh = ((int64_t)k / d.q) % d.p, ow = (int64_t)k % d.q;
        int64_t r0, r1, c0, c1;
        kiln::pool_window(oh, g.kh, g.sh, g.ph, g.h, &r0, &r1);
        kiln::pool_window(ow, g.kw, g.sw, g.pw, g.w, &c0, &c1);
        const float* xp = x.data() + plane * d.h * d.w;
        int32_t arg = (int32_t)(r0 * d.w + c0);
        float best = xp[arg], acc = 0.0f;
        for (int64_t r = r0; r < r1; ++r)
            for (int64_t c = c0; c < c1; ++c) {
                const float v = xp[r * d.w + c];
                acc = kiln_fadd(acc, v);
                if (kiln::pool_max_beats(v, best)) {
                    best = v;
                    arg = (int32_t)(r * d.w + c);
                }
            }
        (*y)[k] = max ? best : kiln_fdiv(acc, kiln::avg_pool_divisor(g, oh, ow, include));
        (*index)[k] = arg;
    }
}

std::vector<float> gpu_order_backward(const kiln_pool2d_desc& d, const std::vector<float>& dy,
                                      const std::vector<int32_t>* index, bool include) {
    const kiln::PoolGeom g = geom_of(d);
    std::vector<float> dx(d.n * d.c * d.h * d.w);
    for (size_t k = 0; k < dx.size(); ++k) {
        const int64_t plane = (int64_t)k / (d.h * d.w), ih = ((int64_t)k / d.w) % d.h, iw = (int64_t)k % d.w;
        int64_t oh0, oh1, ow0, ow1;
        kiln::pool_covering(ih, g.kh, g.sh, g.ph, g.p, &oh0, &oh1);
        kiln::pool_covering(iw, g.kw, g.sw, g.pw, g.q, &ow0, &ow1);
        float acc = 0.0f;
        for (int64_t oh = oh0; oh < oh1; ++oh)
            for (int64_t ow = ow0; ow < ow1; ++ow) {
                const int64_t o = (plane * d.p + oh) * d.q + ow;
                if (index) {
                    if ((*index)[o] == (int32_t)(ih * d.w + iw)) acc = kiln_fadd(acc, dy[o]);
                } else {
                    acc = kiln_fadd(acc, kiln_fdiv(dy[o], kiln::avg_pool_divisor(g, oh, ow, include)));
                }
            }
        dx[k] = acc;
    }
    return dx;
}

bool same_bits(const std::string& what, const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0) return true;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
        if (std::memcmp(&a[i], &b[i], 4) != 0) {
            std::printf("  %s: [%zu] cpu %.9g, gpu order %.9g\n", what.c_str(), i, a[i], b[i]);
            break;
        }
    return false;
}

// Random (tie-heavy, NaN-free) data, and max-pool indices that are partly corrupt: the backends must agree on those
// too (both ignore an index outside its own window).
void cpu_matches_gpu_loop_order() {
    for (const Cfg& g : kConfigs) {
        const kiln_pool2d_desc d = make_desc(g);
        const std::string name = name_of(g);
        const size_t nx = d.n * d.c * d.h * d.w, ny = d.n * d.c * d.p * d.q;
        std::vector<float> x = uniform(nx, 101 + nx, -4.0f, 4.0f);
        for (auto& v : x) v = std::round(v * 2.0f) / 2.0f;  // many ties
        const std::vector<float> dy = uniform(ny, 102 + ny, -3.0f, 3.0f);
        std::vector<float> y(ny), want_y, dx(nx);
        std::vector<int32_t> index(ny), want_index;

        EXPECT(kiln_max_pool2d_f32(g_ctx, &d, x.data(), y.data(), index.data()) == KILN_OK);
        gpu_order_forward(d, x, true, false, &want_y, &want_index);
        EXPECT(same_bits("max_pool " + name, y, want_y) && index == want_index);
        std::vector<int32_t> mixed = index;
        const std::vector<float> r = uniform(ny, 103);
        for (size_t o = 0; o < ny; o += 3) mixed[o] = (int32_t)std::floor(r[o] * (float)(d.h * d.w + 2));
        for (const auto* idx : {&index, &mixed}) {
            EXPECT(kiln_max_pool2d_backward_f32(g_ctx, &d, dy.data(), idx->data(), dx.data()) == KILN_OK);
            EXPECT(same_bits("max_pool_backward " + name, dx, gpu_order_backward(d, dy, idx, false)));
        }
        for (bool include : {false, true}) {
            EXPECT(kiln_avg_pool2d_f32(g_ctx, &d, x.data(), y.data(), include) == KILN_OK);
            gpu_order_forward(d, x, false, include, &want_y, &want_index);
            EXPECT(same_bits("avg_pool " + name, y, want_y));
            EXPECT(kiln_avg_pool2d_backward_f32(g_ctx, &d, dy.data(), dx.data(), include) == KILN_OK);
            EXPECT(same_bits("avg_pool_backward " + name, dx, gpu_order_backward(d, dy, nullptr, include)));
        }
    }
}

// ---- validation ----------------------------------------------------------------------------------------------------

void validation_errors() {
    const Cfg g{1, 1, 5, 5, 2, 2, 0};
    std::vector<float> x(25), y(4), dx(25);
    std::vector<int32_t> index(4);
    kiln_pool2d_desc d = make_desc(g);

    EXPECT(kiln_max_pool2d_f32(g_ctx, nullptr, x.data(), y.data(), index.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_max_pool2d_f32") && message_has("desc"));

    d.p = 3;  // the floor formula gives (5 - 2) / 2 + 1 = 2
    EXPECT(kiln_max_pool2d_f32(g_ctx, &d, x.data(), y.data(), index.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'desc.p' is 3") && message_has("= 2"));
    d = make_desc(g);
    d.q = 1;
    EXPECT(kiln_avg_pool2d_f32(g_ctx, &d, x.data(), y.data(), 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_avg_pool2d_f32") && message_has("'desc.q' is 1"));

    d = make_desc(g);
    d.kernel_w = 0;
    EXPECT(kiln_avg_pool2d_f32(g_ctx, &d, x.data(), y.data(), 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kernel_w") && message_has("got 0"));
    d = make_desc(g);
    d.stride_h = -1;
    EXPECT(kiln_max_pool2d_f32(g_ctx, &d, x.data(), y.data(), index.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("stride_h") && message_has("got -1"));
    d = make_desc(g);
    d.pad_h = 2;  // > kernel / 2: a window could hold nothing but padding
    EXPECT(kiln_max_pool2d_f32(g_ctx, &d, x.data(), y.data(), index.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("pad_h") && message_has("[0, 1]") && message_has("got 2"));
    d = make_desc(g);
    d.pad_w = -1;
    EXPECT(kiln_avg_pool2d_backward_f32(g_ctx, &d, y.data(), dx.data(), 1) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_avg_pool2d_backward_f32") && message_has("pad_w"));

    // A window larger than the padded input has no output at all.
    const Cfg tiny{1, 1, 2, 2, 3, 1, 0};
    d = make_desc(tiny);
    d.p = d.q = 1;
    EXPECT(kiln_max_pool2d_f32(g_ctx, &d, x.data(), y.data(), index.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("larger than the padded input"));

    d = make_desc(g);
    d.n = -1;
    EXPECT(kiln_max_pool2d_backward_f32(g_ctx, &d, y.data(), index.data(), dx.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("n=-1"));
    d = make_desc(g);
    d.h = 0;
    EXPECT(kiln_avg_pool2d_f32(g_ctx, &d, x.data(), y.data(), 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'desc.h' must be in [1, 2^62], got 0"));
    d.h = INT64_MAX;  // in + 2 pad would overflow
    EXPECT(kiln_avg_pool2d_f32(g_ctx, &d, x.data(), y.data(), 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'desc.h' must be in [1, 2^62]"));

    // The argmax index is int32: an input plane past INT32_MAX elements is refused by max pooling (n = 0: no data).
    const Cfg huge{0, 1, 50000, 50000, 2, 2, 0};
    d = make_desc(huge);
    EXPECT(kiln_max_pool2d_f32(g_ctx, &d, nullptr, nullptr, nullptr) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("int32"));
    EXPECT(kiln_avg_pool2d_f32(g_ctx, &d, nullptr, nullptr, 0) == KILN_OK);  // no index, no limit; nothing to do

    d = make_desc(g);
    EXPECT(kiln_max_pool2d_f32(g_ctx, &d, nullptr, y.data(), index.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'x' is null"));
    EXPECT(kiln_max_pool2d_f32(g_ctx, &d, x.data(), y.data(), nullptr) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'index' is null"));
    EXPECT(kiln_max_pool2d_backward_f32(g_ctx, &d, y.data(), nullptr, dx.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'index' is null"));
    // dx == NULL: the gradient is not wanted, nothing to do.
    EXPECT(kiln_max_pool2d_backward_f32(g_ctx, &d, nullptr, nullptr, nullptr) == KILN_OK);
    EXPECT(kiln_avg_pool2d_backward_f32(g_ctx, &d, nullptr, nullptr, 0) == KILN_OK);
    EXPECT(kiln_max_pool2d_f32(nullptr, &d, x.data(), y.data(), index.data()) == KILN_ERR_INVALID_ARGUMENT);
}

}  // namespace

int main() {
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &g_ctx) != KILN_OK) {
        std::printf("cannot create the CPU context: %s\n", kiln_last_error());
        return 1;
    }
    max_pool_forward_and_backward();
    max_pool_padding_never_wins();
    max_pool_nan_and_ties();
    max_pool_fast_path_matches_generic();
    max_pool_overlap_accumulates();
    avg_pool_forward_and_backward();
    avg_pool_pad_modes();
    cpu_matches_gpu_loop_order();
    validation_errors();
    kiln_context_destroy(g_ctx);
    return kiln::test::finish("test_pool_cpu");
}

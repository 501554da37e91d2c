// Tests of the conv2d entries on a CPU context, through the C ABI: forward, backward-data and backward-weight (+bias)
// against a naive double-precision direct convolution written here, on the CNN's layers and every stride / padding /
// dilation / kernel-size / odd-channel / batch-1 / non-square case; the backward entries against central finite
// differences of that reference on small shapes; guard values past every output; and the validation errors.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "common/conv_geometry.h"
#include "cpu/conv2d_paths.h"
#include "kiln/kiln.h"

namespace {

kiln_context* g_ctx = nullptr;
const float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kGuard = -7777.25f;  // written past every output buffer; must survive the call
constexpr int kGuards = 64;

std::vector<float> uniform(size_t n, uint64_t seed) {
    std::vector<float> v(n);
    uint64_t s = 0x9E3779B97F4A7C15ull ^ (seed * 0xBF58476D1CE4E5B9ull);
    for (auto& x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = -1.0f + 2.0f * (float)((s >> 40) * 0x1p-24);
    }
    return v;
}

bool message_has(const char* needle) {
    if (std::strstr(kiln_last_error(), needle)) return true;
    std::printf("  message \"%s\" lacks \"%s\"\n", kiln_last_error(), needle);
    return false;
}

struct Shape {
    const char* name;
    int64_t n, c, h, w, k, r, s;
    int32_t sh, sw, ph, pw, dh, dw;
};

int64_t out_extent(int64_t in, int64_t ker, int32_t st, int32_t pad, int32_t dil) {
    const int64_t num = in + 2 * pad - dil * (ker - 1) - 1;
    return num < 0 ? 0 : num / st + 1;
}

kiln_conv2d_desc desc_of(const Shape& t) {
    kiln_conv2d_desc d;
    d.n = t.n, d.c = t.c, d.h = t.h, d.w = t.w, d.k = t.k, d.r = t.r, d.s = t.s;
    d.stride_h = t.sh, d.stride_w = t.sw, d.pad_h = t.ph, d.pad_w = t.pw, d.dilation_h = t.dh, d.dilation_w = t.dw;
    d.p = out_extent(t.h, t.r, t.sh, t.ph, t.dh);
    d.q = out_extent(t.w, t.s, t.sw, t.pw, t.dw);
    return d;
}

// ---- the reference: direct convolution in double, written from the definition ---------------------------------

// Visits every (output, input, weight) triple of the convolution: fn(y index, x index, w index).
template <class Fn>
void for_each_term(const kiln_conv2d_desc& d, Fn&& fn) {
    for (int64_t n = 0; n < d.n; ++n)
        for (int64_t k = 0; k < d.k; ++k)
            for (int64_t oh = 0; oh < d.p; ++oh)
                for (int64_t ow = 0; ow < d.q; ++ow)
                    for (int64_t c = 0; c < d.c; ++c)
                        for (int64_t r = 0; r < d.r; ++r) {
                            const int64_t ih = oh * d.stride_h - d.pad_h + r * d.dilation_h;
                            if (ih < 0 || ih >= d.h) continue;
                            for (int64_t s = 0; s < d.s; ++s) {
                                const int64_t iw = ow * d.stride_w - d.pad_w + s * d.dilation_w;
                                if (iw < 0 || iw >= d.w) continue;
                                fn(((n * d.k + k) * d.p + oh) * d.q + ow, ((n * d.c + c) * d.h + ih) * d.w + iw,
                                   ((k * d.c + c) * d.r + r) * d.s + s);
                            }
                        }
}

// Each reference output also gets the sum of |terms|, which bounds the float error of any summation order.
struct Ref {
    std::vector<double> v, mag;
};

Ref ref_forward(const kiln_conv2d_desc& d, const std::vector<double>& x, const std::vector<double>& w,
                const std::vector<double>* bias) {
    Ref y{std::vector<double>(d.n * d.k * d.p * d.q, 0.0), std::vector<double>(d.n * d.k * d.p * d.q, 0.0)};
    for_each_term(d, [&](int64_t yi, int64_t xi, int64_t wi) {
        y.v[yi] += x[xi] * w[wi];
        y.mag[yi] += std::fabs(x[xi] * w[wi]);
    });
    if (bias)
        for (size_t i = 0; i < y.v.size(); ++i) {
            const double b = (*bias)[(i / (d.p * d.q)) % d.k];
            y.v[i] += b;
            y.mag[i] += std::fabs(b);
        }
    return y;
}

Ref ref_backward_data(const kiln_conv2d_desc& d, const std::vector<double>& dy, const std::vector<double>& w) {
    Ref dx{std::vector<double>(d.n * d.c * d.h * d.w, 0.0), std::vector<double>(d.n * d.c * d.h * d.w, 0.0)};
    for_each_term(d, [&](int64_t yi, int64_t xi, int64_t wi) {
        dx.v[xi] += dy[yi] * w[wi];
        dx.mag[xi] += std::fabs(dy[yi] * w[wi]);
    });
    return dx;
}

Ref ref_backward_weight(const kiln_conv2d_desc& d, const std::vector<double>& x, const std::vector<double>& dy) {
    Ref dw{std::vector<double>(d.k * d.c * d.r * d.s, 0.0), std::vector<double>(d.k * d.c * d.r * d.s, 0.0)};
    for_each_term(d, [&](int64_t yi, int64_t xi, int64_t wi) {
        dw.v[wi] += dy[yi] * x[xi];
        dw.mag[wi] += std::fabs(dy[yi] * x[xi]);
    });
    return dw;
}

Ref ref_bias_grad(const kiln_conv2d_desc& d, const std::vector<double>& dy) {
    Ref db{std::vector<double>(d.k, 0.0), std::vector<double>(d.k, 0.0)};
    for (size_t i = 0; i < dy.size(); ++i) {
        const int64_t k = (i / (d.p * d.q)) % d.k;
        db.v[k] += dy[i];
        db.mag[k] += std::fabs(dy[i]);
    }
    return db;
}

std::vector<double> widen(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

// Output buffer of n floats, NaN-filled (so an unwritten element shows) with guards behind it.
std::vector<float> out_buffer(size_t n) {
    std::vector<float> b(n + kGuards, kGuard);
    std::fill(b.begin(), b.begin() + n, kNaN);
    return b;
}

// got (n floats + guards) against the reference: |got - want| <= 1e-5 * sum|terms| + 1e-6, and the guards intact.
bool matches(const std::string& what, const std::vector<float>& got, const Ref& want) {
    const size_t n = want.v.size();
    int bad = 0;
    for (size_t i = 0; i < n; ++i) {
        const double err = std::fabs((double)got[i] - want.v[i]);
        if (!(err <= 1e-5 * want.mag[i] + 1e-6)) {
            if (bad++ < 3) std::printf("  %s[%zu]: got %.9g, want %.9g\n", what.c_str(), i, got[i], want.v[i]);
        }
    }
    for (int i = 0; i < kGuards; ++i)
        if (got[n + i] != kGuard) {
            std::printf("  %s: guard %d past the output was overwritten\n", what.c_str(), i);
            return false;
        }
    if (bad) std::printf("  %s: %d of %zu elements off\n", what.c_str(), bad, n);
    return bad == 0;
}

// ---- the cases -------------------------------------------------------------------------------------------------

const Shape kShapes[] = {
    // name                    n   c   h   w   k  r  s  sh sw ph pw dh dw
    {"cnn conv1 1->32 3x3",    4,  1, 28, 28, 32, 3, 3, 1, 1, 0, 0, 1, 1},
    {"cnn conv2 32->64 3x3",   4, 32, 13, 13, 64, 3, 3, 1, 1, 0, 0, 1, 1},
    {"3x3 s1 p1 c3 k7",        2,  3,  9,  9,  7, 3, 3, 1, 1, 1, 1, 1, 1},
    {"3x3 s2 p1 c7",           2,  7, 11, 10,  5, 3, 3, 2, 2, 1, 1, 1, 1},
    {"3x3 s2 p0",              3,  3, 12, 12,  4, 3, 3, 2, 2, 0, 0, 1, 1},
    {"5x5 s1 p2",              2,  3, 10, 10,  6, 5, 5, 1, 1, 2, 2, 1, 1},
    {"5x5 s2 p2 batch1",       1,  4, 13, 11,  3, 5, 5, 2, 2, 2, 2, 1, 1},
    {"1x1 s1 p0",              2,  7,  6,  6,  5, 1, 1, 1, 1, 0, 0, 1, 1},
    {"1x1 s2 p0",              2,  5,  7,  7,  3, 1, 1, 2, 2, 0, 0, 1, 1},
    {"1x1 s1 p1",              1,  3,  5,  5,  4, 1, 1, 1, 1, 1, 1, 1, 1},
    {"3x3 dil2 p2",            2,  3, 12, 12,  5, 3, 3, 1, 1, 2, 2, 2, 2},
    {"3x3 dil2 s2 p1",         1,  4, 13, 13,  3, 3, 3, 2, 2, 1, 1, 2, 2},
    {"non-square 3x5 s(1,2)",  2,  3,  7, 15,  4, 3, 5, 1, 2, 1, 2, 1, 1},
    {"2x3 dil(2,1) p(0,1)",    1,  2, 11,  9,  3, 2, 3, 1, 1, 0, 1, 2, 1},
    {"batch1 c16 k33 p1",      1, 16, 20, 20, 33, 3, 3, 1, 1, 1, 1, 1, 1},
    {"pad wider than kernel",  1,  2,  4,  4,  3, 1, 1, 1, 1, 2, 2, 1, 1},
    {"stride 3 ragged",        1,  3, 10, 11,  2, 3, 3, 3, 3, 1, 0, 1, 1},
    {"kernel covers input",    2,  3,  5,  5,  4, 5, 5, 1, 1, 0, 0, 1, 1},
    {"taps > GEMM depth",      1, 48,  8,  8, 16, 3, 3, 1, 1, 1, 1, 1, 1},
    {"filters > GEMM depth",   1,  4,  6,  6, 400, 3, 3, 1, 1, 1, 1, 1, 1},
    {"several blocks s1 p1",   1, 64, 30, 30,  8, 3, 3, 1, 1, 1, 1, 1, 1},
    {"several blocks s2 p1",   1, 64, 64, 64,  4, 3, 3, 2, 2, 1, 1, 1, 1},
    {"long rows s1 p0",        2,  2, 40, 40,  3, 3, 3, 1, 1, 0, 0, 1, 1},
    {"1x7 row kernel",         2,  3,  5, 20,  4, 1, 7, 1, 1, 0, 3, 1, 1},
    // 3x3 stride 1 with 8+ channels each way: the Winograd path on AVX-512, and on AVX2 in the pass that runs it
    // wherever it applies (tile halves, blocks, padding and the fall-backs are what these vary).
    {"wino 1x1 output",        3,  8,  3,  3,  8, 3, 3, 1, 1, 0, 0, 1, 1},
    {"wino odd 9x11 p1",       2,  9,  9, 11, 10, 3, 3, 1, 1, 1, 1, 1, 1},
    {"wino p2 7x8",            2, 12,  7,  8,  9, 3, 3, 1, 1, 2, 2, 1, 1},
    {"wino p3 (data: gemm)",   1,  8,  6,  6,  8, 3, 3, 1, 1, 3, 3, 1, 1},
    {"wino pads (1,0)",        2,  8, 10,  7, 11, 3, 3, 1, 1, 1, 0, 1, 1},
    {"wino wide rows 5x40",    2,  8,  5, 40, 16, 3, 3, 1, 1, 1, 1, 1, 1},
    {"wino row of 33 tiles",   1,  8,  4, 66,  8, 3, 3, 1, 1, 0, 0, 1, 1},
    {"wino c200 depth blocks", 1, 200, 6,  6,  8, 3, 3, 1, 1, 1, 1, 1, 1},
    {"wino k100",              1,  8,  6,  6, 100, 3, 3, 1, 1, 1, 1, 1, 1},
    {"wino 1 tile per image",  40, 8,  4,  4,  8, 3, 3, 1, 1, 0, 0, 1, 1},
    {"wino blocks span images", 9, 16, 13, 13, 24, 3, 3, 1, 1, 0, 0, 1, 1},
};

void check_shape(const Shape& t) {
    const kiln_conv2d_desc d = desc_of(t);
    const size_t nx = d.n * d.c * d.h * d.w, nw = d.k * d.c * d.r * d.s, ny = d.n * d.k * d.p * d.q;
    const uint64_t seed = (uint64_t)(t.n * 131 + t.c * 17 + t.h * 7 + t.k * 3 + t.r + t.sh * 1000 + t.dh * 5000);
    const std::vector<float> x = uniform(nx, seed), w = uniform(nw, seed + 1), bias = uniform(d.k, seed + 2);
    const std::vector<float> dy = uniform(ny, seed + 3);
    const std::vector<double> xd = widen(x), wd = widen(w), bd = widen(bias), dyd = widen(dy);
    const std::string name = t.name;

    for (int with_bias = 0; with_bias < 2; ++with_bias) {
        std::vector<float> y = out_buffer(ny);
        EXPECT(kiln_conv2d_forward_f32(g_ctx, &d, x.data(), w.data(), with_bias ? bias.data() : nullptr, y.data()) ==
               KILN_OK);
        EXPECT(matches(name + (with_bias ? " forward+bias" : " forward"), y,
                       ref_forward(d, xd, wd, with_bias ? &bd : nullptr)));
    }

    std::vector<float> dx = out_buffer(nx);
    EXPECT(kiln_conv2d_backward_data_f32(g_ctx, &d, dy.data(), w.data(), dx.data()) == KILN_OK);
    EXPECT(matches(name + " backward-data", dx, ref_backward_data(d, dyd, wd)));

    std::vector<float> dw = out_buffer(nw), db = out_buffer(d.k);
    EXPECT(kiln_conv2d_backward_weight_f32(g_ctx, &d, x.data(), dy.data(), dw.data(), db.data()) == KILN_OK);
    EXPECT(matches(name + " backward-weight", dw, ref_backward_weight(d, xd, dyd)));
    EXPECT(matches(name + " backward-bias", db, ref_bias_grad(d, dyd)));

    // dbias NULL: dw alone, the same values.
    std::vector<float> dw2 = out_buffer(nw);
    EXPECT(kiln_conv2d_backward_weight_f32(g_ctx, &d, x.data(), dy.data(), dw2.data(), nullptr) == KILN_OK);
    EXPECT(std::memcmp(dw.data(), dw2.data(), dw.size() * sizeof(float)) == 0);

    // Repeatable: a second forward gives the same bits (no dependence on scheduling).
    std::vector<float> y1 = out_buffer(ny), y2 = out_buffer(ny);
    kiln_conv2d_forward_f32(g_ctx, &d, x.data(), w.data(), bias.data(), y1.data());
    kiln_conv2d_forward_f32(g_ctx, &d, x.data(), w.data(), bias.data(), y2.data());
    EXPECT(std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)) == 0);
}

// ---- gradients against central finite differences of the reference ---------------------------------------------

// L(x, w, b) = sum(y * g) for a fixed random g; then dL/dx = backward_data(g), dL/dw = backward_weight(x, g),
// dL/db = bias grad(g). The reference is linear in each argument, so the central difference in double is exact up
// to rounding: a mismatch means the backward computes something other than the forward's gradient.
void check_finite_differences(const Shape& t) {
    const kiln_conv2d_desc d = desc_of(t);
    const size_t nx = d.n * d.c * d.h * d.w, nw = d.k * d.c * d.r * d.s, ny = d.n * d.k * d.p * d.q;
    const std::vector<float> x = uniform(nx, 11), w = uniform(nw, 12), b = uniform(d.k, 13), g = uniform(ny, 14);
    std::vector<double> xd = widen(x), wd = widen(w), bd = widen(b);
    const std::vector<double> gd = widen(g);
    auto loss = [&]() {
        const Ref y = ref_forward(d, xd, wd, &bd);
        double l = 0;
        for (size_t i = 0; i < ny; ++i) l += y.v[i] * gd[i];
        return l;
    };
    const double h = 1e-3;
    auto fd = [&](std::vector<double>& v, size_t i) {
        const double keep = v[i];
        v[i] = keep + h;
        const double up = loss();
        v[i] = keep - h;
        const double down = loss();
        v[i] = keep;
        return (up - down) / (2 * h);
    };
    std::vector<float> dx = out_buffer(nx), dw = out_buffer(nw), db = out_buffer(d.k);
    EXPECT(kiln_conv2d_backward_data_f32(g_ctx, &d, g.data(), w.data(), dx.data()) == KILN_OK);
    EXPECT(kiln_conv2d_backward_weight_f32(g_ctx, &d, x.data(), g.data(), dw.data(), db.data()) == KILN_OK);
    int bad = 0;
    auto check = [&](const char* what, std::vector<double>& v, const std::vector<float>& got, size_t n) {
        const size_t step = std::max<size_t>(1, n / 40);  // about 40 coordinates, spread over the tensor
        for (size_t i = 0; i < n; i += step) {
            const double want = fd(v, i);
            if (std::fabs(got[i] - want) > 1e-4 * (1 + std::fabs(want))) {
                if (bad++ < 5) std::printf("  %s fd %s[%zu]: got %.9g, want %.9g\n", t.name, what, i, got[i], want);
            }
        }
    };
    check("dx", xd, dx, nx);
    check("dw", wd, dw, nw);
    check("dbias", bd, db, d.k);
    EXPECT(bad == 0);
}

// ---- the shared geometry header ----------------------------------------------------------------------------------

// The index helpers both backends use (the CUDA kernels gather with output_from_input, the CPU im2col cuts runs
// with valid_outputs) against brute force over small axes: every stride, padding, dilation and kernel size.
void check_geometry() {
    int bad = 0;
    for (int64_t in = 1; in <= 9; ++in)
        for (int64_t ker = 1; ker <= 4; ++ker)
            for (int32_t st = 1; st <= 3; ++st)
                for (int32_t pad = 0; pad <= 3; ++pad)
                    for (int32_t dil = 1; dil <= 3; ++dil) {
                        const int64_t out = kiln::conv::output_extent(in, ker, st, pad, dil);
                        const int64_t want = out_extent(in, ker, st, pad, dil);  // 0 where nothing fits
                        if (out != want && !(out <= 0 && want == 0)) bad++;
                        if (out <= 0) continue;
                        for (int64_t t = 0; t < ker; ++t) {
                            int64_t lo, hi;
                            kiln::conv::valid_outputs(in, out, t, st, pad, dil, &lo, &hi);
                            for (int64_t o = 0; o < out; ++o) {
                                const int64_t i = kiln::conv::input_index(o, t, st, pad, dil);
                                const bool inside = i >= 0 && i < in;
                                if (inside != (o >= lo && o < hi)) bad++;
                            }
                            for (int64_t i = 0; i < in; ++i) {
                                int64_t want = -1;
                                for (int64_t o = 0; o < out; ++o)
                                    if (kiln::conv::input_index(o, t, st, pad, dil) == i) want = o;
                                if (kiln::conv::output_from_input<int64_t>(i, t, out, st, pad, dil) != want) bad++;
                                if (kiln::conv::output_from_input<int>((int)i, (int)t, (int)out, st, pad, dil) != want)
                                    bad++;
                            }
                        }
                    }
    if (bad) std::printf("  geometry: %d mismatches against brute force\n", bad);
    EXPECT(bad == 0);
}

// ---- validation --------------------------------------------------------------------------------------------------

void check_validation() {
    const Shape base{"base", 2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1};
    const kiln_conv2d_desc good = desc_of(base);
    std::vector<float> x(2 * 3 * 8 * 8, 0.5f), w(4 * 3 * 3 * 3, 0.25f), y(2 * 4 * 8 * 8), dx(x.size()), dw(w.size());
    const char* fwd = "kiln_conv2d_forward_f32";

    EXPECT(kiln_conv2d_forward_f32(g_ctx, nullptr, x.data(), w.data(), nullptr, y.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has(fwd) && message_has("'desc' is null"));

    kiln_conv2d_desc d = good;
    d.p = 7;
    EXPECT(kiln_conv2d_forward_f32(g_ctx, &d, x.data(), w.data(), nullptr, y.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has(fwd) && message_has("'desc.p' is 7 but expected 8"));

    d = good;
    d.q = 9;
    EXPECT(kiln_conv2d_backward_data_f32(g_ctx, &d, y.data(), w.data(), dx.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_conv2d_backward_data_f32") && message_has("'desc.q' is 9 but expected 8"));

    d = good;
    d.stride_h = 0;
    EXPECT(kiln_conv2d_backward_weight_f32(g_ctx, &d, x.data(), y.data(), dw.data(), nullptr) ==
           KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_conv2d_backward_weight_f32") && message_has("'desc.stride_h' must be >= 1, got 0"));

    d = good;
    d.dilation_w = -1;
    EXPECT(kiln_conv2d_forward_f32(g_ctx, &d, x.data(), w.data(), nullptr, y.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'desc.dilation_w' must be >= 1, got -1"));

    d = good;
    d.pad_w = -2;
    EXPECT(kiln_conv2d_forward_f32(g_ctx, &d, x.data(), w.data(), nullptr, y.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'desc.pad_w' must be >= 0, got -2"));

    d = good;  // a 9x9 kernel on an 8x8 input without padding fits nowhere
    d.r = 9;
    d.pad_h = 0;
    d.p = 0;
    EXPECT(kiln_conv2d_forward_f32(g_ctx, &d, x.data(), w.data(), nullptr, y.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("does not fit along h"));

    d = good;
    d.c = 0;
    EXPECT(kiln_conv2d_forward_f32(g_ctx, &d, x.data(), w.data(), nullptr, y.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("c, h, w, k, r, s >= 1"));

    d = good;
    d.n = -1;
    EXPECT(kiln_conv2d_forward_f32(g_ctx, &d, x.data(), w.data(), nullptr, y.data()) == KILN_ERR_INVALID_ARGUMENT);

    d = good;
    d.n = int64_t(1) << 40;  // x would have 2^40 * 192 elements: beyond int64
    d.c = int64_t(1) << 30;
    EXPECT(kiln_conv2d_forward_f32(g_ctx, &d, x.data(), w.data(), nullptr, y.data()) == KILN_ERR_INVALID_ARGUMENT);

    EXPECT(kiln_conv2d_forward_f32(g_ctx, &good, nullptr, w.data(), nullptr, y.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'x' is null"));
    EXPECT(kiln_conv2d_forward_f32(g_ctx, &good, x.data(), w.data(), nullptr, nullptr) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'y' is null"));
    EXPECT(kiln_conv2d_backward_data_f32(g_ctx, &good, y.data(), nullptr, dx.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'w' is null"));
    EXPECT(kiln_conv2d_backward_weight_f32(g_ctx, &good, x.data(), y.data(), nullptr, nullptr) ==
           KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'dw' is null"));
    EXPECT(kiln_conv2d_forward_f32(nullptr, &good, x.data(), w.data(), nullptr, y.data()) != KILN_OK);

    uint64_t bytes = 0;
    EXPECT(kiln_conv2d_workspace_size(&good, nullptr) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_conv2d_workspace_size(nullptr, &bytes) == KILN_ERR_INVALID_ARGUMENT);
    d = good;
    d.p = 3;
    EXPECT(kiln_conv2d_workspace_size(&d, &bytes) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_conv2d_workspace_size(&good, &bytes) == KILN_OK && bytes > 0);

    // An empty batch: nothing to compute, and the weight gradient is zero rather than left untouched.
    d = good;
    d.n = 0;
    std::vector<float> dw0(w.size(), kNaN), db0(4, kNaN);
    EXPECT(kiln_conv2d_forward_f32(g_ctx, &d, nullptr, w.data(), nullptr, nullptr) == KILN_OK);
    EXPECT(kiln_conv2d_backward_weight_f32(g_ctx, &d, nullptr, nullptr, dw0.data(), db0.data()) == KILN_OK);
    EXPECT(std::all_of(dw0.begin(), dw0.end(), [](float v) { return v == 0.0f; }) &&
           std::all_of(db0.begin(), db0.end(), [](float v) { return v == 0.0f; }));
}

// The scratch the CPU backend reports for the benchmark shapes: bounded (not proportional to the batch).
void check_workspace() {
    const Shape shapes[] = {{"cnn conv1 N=64", 64, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0, 1, 1},
                            {"cnn conv2 N=64", 64, 32, 13, 13, 64, 3, 3, 1, 1, 0, 0, 1, 1},
                            {"resnet 64->64 N=32", 32, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1}};
    for (const Shape& s : shapes) {
        kiln_conv2d_desc d = desc_of(s);
        uint64_t small = 0, big = 0, bigger = 0;
        EXPECT(kiln_conv2d_workspace_size(&d, &small) == KILN_OK);
        d.n *= 16;
        EXPECT(kiln_conv2d_workspace_size(&d, &big) == KILN_OK);
        d.n *= 16;
        EXPECT(kiln_conv2d_workspace_size(&d, &bigger) == KILN_OK);
        // It may grow with small batches (a few images packed at once) but saturates: never proportional to n.
        EXPECT(small <= big && big == bigger && big < (uint64_t(64) << 20));
        std::printf("  workspace %-20s %8.1f KiB\n", s.name, small / 1024.0);
    }
}

}  // namespace

// ---- non-finite values ------------------------------------------------------------------------------------------

// An inf or NaN reaches exactly the gradient entries it meets in exact math: where the double reference is finite,
// Kiln is finite and close. The unit-stride implicit GEMM computes "throw-away" positions past each output row with a
// zero dy; 0 times an inf weight (backward-data) or input (backward-weight) there was NaN, and landed on pixels or taps
// the value never meets. 5x5 kernels over 3 channels: not Winograd, and 75 taps take the GEMM form of backward-weight.
bool finite_where_the_reference_is(const std::string& what, const std::vector<float>& got, const Ref& want) {
    int bad = 0;
    for (size_t i = 0; i < want.v.size(); ++i) {
        const bool ok = std::isfinite(want.v[i]) ? std::fabs((double)got[i] - want.v[i]) <= 1e-5 * want.mag[i] + 1e-6
                                                 : !std::isfinite(got[i]);
        if (!ok && bad++ < 3) std::printf("  %s[%zu]: got %.9g, want %.9g\n", what.c_str(), i, got[i], want.v[i]);
    }
    return bad == 0;
}

void check_non_finite() {
    const Shape shapes[] = {{"5x5 p0 non-finite", 1, 3, 6, 6, 1, 5, 5, 1, 1, 0, 0, 1, 1},
                            {"5x5 p2 non-finite", 2, 3, 7, 7, 2, 5, 5, 1, 1, 2, 2, 1, 1}};
    for (const Shape& t : shapes) {
        const kiln_conv2d_desc d = desc_of(t);
        const size_t nx = d.n * d.c * d.h * d.w, nw = d.k * d.c * d.r * d.s, ny = d.n * d.k * d.p * d.q;
        std::vector<float> x = uniform(nx, 71), w = uniform(nw, 72);
        const std::vector<float> dy = uniform(ny, 73);
        w[4] = NAN;                 // w[0, 0, 0, 4]: the last tap of the first row
        x[d.w - 1] = INFINITY;      // x[0, 0, 0, w - 1]: the end of the first input row
        x[nx / 2] = -INFINITY;
        std::vector<float> dx = out_buffer(nx), dw = out_buffer(nw);
        EXPECT(kiln_conv2d_backward_data_f32(g_ctx, &d, dy.data(), w.data(), dx.data()) == KILN_OK);
        EXPECT(finite_where_the_reference_is(std::string(t.name) + " backward-data", dx,
                                             ref_backward_data(d, widen(dy), widen(w))));
        EXPECT(kiln_conv2d_backward_weight_f32(g_ctx, &d, x.data(), dy.data(), dw.data(), nullptr) == KILN_OK);
        EXPECT(finite_where_the_reference_is(std::string(t.name) + " backward-weight", dw,
                                             ref_backward_weight(d, widen(x), widen(dy))));
    }
}

int main() {
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &g_ctx) != KILN_OK) {
        std::printf("cannot create a CPU context: %s\n", kiln_last_error());
        return 1;
    }
    check_geometry();
    for (const Shape& s : kShapes) check_shape(s);
    // Where the ISA has Winograd transforms (AVX-512, AVX2): the CNN's second layer (32 -> 64 channels, 13x13) takes
    // them forward; every shape above runs again with them wherever they can compute the layer, paying or not (the
    // default pass left the small "wino" shapes on the implicit GEMM where the ISA's measurements say so), and once
    // more with them off: the ISA's implicit GEMM still serves those layers when asked to.
    const char* isa = kiln::cpu::conv2d_isa();
    if (std::strcmp(isa, "avx512") == 0 || std::strcmp(isa, "avx2") == 0) {
        using kiln::cpu::conv2d_detail::WinogradUse;
        using kiln::cpu::winograd::Direction;
        const kiln::conv::Geometry cnn2{64, 32, 13, 13, 64, 3, 3, 1, 1, 0, 0, 1, 1, 11, 11};
        EXPECT(std::strcmp(kiln::cpu::conv2d_detail::conv2d_algorithm(cnn2, Direction::forward), "winograd") == 0);
        kiln::cpu::conv2d_detail::set_winograd_for_testing(WinogradUse::wherever_it_applies);
        EXPECT(std::strcmp(kiln::cpu::conv2d_detail::conv2d_algorithm(cnn2, Direction::data), "winograd") == 0);
        std::printf("  %s Winograd wherever it applies\n", isa);
        for (const Shape& s : kShapes) check_shape(s);
        kiln::cpu::conv2d_detail::set_winograd_for_testing(WinogradUse::off);
        EXPECT(std::strcmp(kiln::cpu::conv2d_detail::conv2d_algorithm(cnn2, Direction::forward), "implicit-gemm") == 0);
        std::printf("  %s implicit GEMM for every shape\n", isa);
        for (const Shape& s : kShapes) check_shape(s);
        kiln::cpu::conv2d_detail::set_winograd_for_testing(WinogradUse::where_it_pays);
    }
    // Again on the portable kernels (SSE2 GEMM tile, scalar packing), which machines without AVX2 run.
    check_non_finite();
    kiln::cpu::conv2d_detail::force_baseline_for_testing(true);
    std::printf("  portable kernels: %s\n", kiln::cpu::conv2d_isa());
    for (const Shape& s : kShapes) check_shape(s);
    check_non_finite();
    kiln::cpu::conv2d_detail::force_baseline_for_testing(false);
    std::printf("  dispatched kernels: %s\n", kiln::cpu::conv2d_isa());
    const Shape fd_shapes[] = {{"fd 3x3 s1 p1", 2, 3, 6, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1},
                               {"fd 3x3 s2 p1 dil2", 1, 2, 9, 8, 3, 3, 3, 2, 2, 1, 1, 2, 2},
                               {"fd 2x3 s(2,1) p(0,2)", 2, 3, 7, 6, 2, 2, 3, 2, 1, 0, 2, 1, 1},
                               {"fd 1x1", 2, 4, 5, 5, 3, 1, 1, 1, 1, 0, 0, 1, 1},
                               {"fd winograd 3x3 s1 p1", 2, 8, 5, 6, 9, 3, 3, 1, 1, 1, 1, 1, 1}};
    for (const Shape& s : fd_shapes) check_finite_differences(s);
    check_validation();
    check_workspace();
    kiln_context_destroy(g_ctx);
    return kiln::test::finish("test_conv2d_cpu");
}

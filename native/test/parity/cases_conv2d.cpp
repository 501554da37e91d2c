// Parity cases for conv2d: forward (with and without bias), backward-data and backward-weight (with and without
// the bias gradient) on the CNN's layers at N=4 and on every stride / padding / dilation / kernel-size /
// odd-channel / batch-1 / non-square case the CPU test covers.
#include <cstdio>
#include <string>

#include "parity/harness.h"

namespace kiln::parity {
namespace {

struct Conv {
    const char* name;
    int64_t n, c, h, w, k, r, s;
    int32_t sh, sw, ph, pw, dh, dw;
};

kiln_conv2d_desc desc_of(const Conv& t) {
    kiln_conv2d_desc d;
    d.n = t.n, d.c = t.c, d.h = t.h, d.w = t.w, d.k = t.k, d.r = t.r, d.s = t.s;
    d.stride_h = t.sh, d.stride_w = t.sw, d.pad_h = t.ph, d.pad_w = t.pw, d.dilation_h = t.dh, d.dilation_w = t.dw;
    d.p = (t.h + 2 * t.ph - t.dh * (t.r - 1) - 1) / t.sh + 1;
    d.q = (t.w + 2 * t.pw - t.dw * (t.s - 1) - 1) / t.sw + 1;
    return d;
}

std::string shape_of(const Conv& t, const kiln_conv2d_desc& d) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "%s n%lld c%lld %lldx%lld k%lld %lldx%lld s%d,%d p%d,%d d%d,%d", t.name,
                  (long long)t.n, (long long)t.c, (long long)t.h, (long long)t.w, (long long)t.k, (long long)t.r,
                  (long long)t.s, t.sh, t.sw, t.ph, t.pw, t.dh, t.dw);
    (void)d;
    return buf;
}

void add_cases(std::vector<OpCase>& cases, const Conv& t) {
    const kiln_conv2d_desc d = desc_of(t);
    const size_t nx = d.n * d.c * d.h * d.w, nw = d.k * d.c * d.r * d.s, ny = d.n * d.k * d.p * d.q;
    const uint32_t seed = (uint32_t)(t.n * 131 + t.c * 17 + t.h * 7 + t.k * 3 + t.r + t.sh * 1000 + t.dh * 5000);
    const std::string shape = shape_of(t, d);
    const double tol = 1e-9;
    for (int with_bias = 0; with_bias < 2; ++with_bias) {
        std::vector<Arg> args = {in_f32(host_uniform(nx, seed)), in_f32(host_uniform(nw, seed + 1)),
                                 in_f32(host_uniform(d.k, seed + 2)), out_f32(ny)};
        cases.push_back(OpCase{"conv2d_forward", shape + (with_bias ? " bias" : ""), tol, args,
                               [d, with_bias](kiln_context* ctx, const std::vector<void*>& p) {
                                   return kiln_conv2d_forward_f32(ctx, &d, (const float*)p[0], (const float*)p[1],
                                                                  with_bias ? (const float*)p[2] : nullptr,
                                                                  (float*)p[3]);
                               }});
    }
    cases.push_back(OpCase{"conv2d_backward_data", shape, tol,
                           {in_f32(host_uniform(ny, seed + 3)), in_f32(host_uniform(nw, seed + 1)), out_f32(nx)},
                           [d](kiln_context* ctx, const std::vector<void*>& p) {
                               return kiln_conv2d_backward_data_f32(ctx, &d, (const float*)p[0], (const float*)p[1],
                                                                    (float*)p[2]);
                           }});
    for (int with_bias = 0; with_bias < 2; ++with_bias) {
        std::vector<Arg> args = {in_f32(host_uniform(nx, seed)), in_f32(host_uniform(ny, seed + 3)), out_f32(nw),
                                 out_f32(with_bias ? d.k : 1)};
        cases.push_back(OpCase{"conv2d_backward_weight", shape + (with_bias ? " dbias" : ""), tol, args,
                               [d, with_bias](kiln_context* ctx, const std::vector<void*>& p) {
                                   kiln_status st = kiln_conv2d_backward_weight_f32(
                                       ctx, &d, (const float*)p[0], (const float*)p[1], (float*)p[2],
                                       with_bias ? (float*)p[3] : nullptr);
                                   // Without dbias the last buffer is untouched on both backends: give it a value
                                   // so the comparison sees equal bytes rather than the NaN fill.
                                   if (st == KILN_OK && !with_bias) st = kiln_fill_f32(ctx, (float*)p[3], 1, 0.0f);
                                   return st;
                               }});
    }
}

std::vector<OpCase> conv2d_cases() {
    const Conv shapes[] = {
        // name                n   c   h   w   k  r  s  sh sw ph pw dh dw
        {"cnn-conv1",          4,  1, 28, 28, 32, 3, 3, 1, 1, 0, 0, 1, 1},
        {"cnn-conv2",          4, 32, 13, 13, 64, 3, 3, 1, 1, 0, 0, 1, 1},
        {"3x3-p1",             2,  3,  9,  9,  7, 3, 3, 1, 1, 1, 1, 1, 1},
        {"3x3-s2-p1",          2,  7, 11, 10,  5, 3, 3, 2, 2, 1, 1, 1, 1},
        {"3x3-s2-p0",          3,  3, 12, 12,  4, 3, 3, 2, 2, 0, 0, 1, 1},
        {"5x5-p2",             2,  3, 10, 10,  6, 5, 5, 1, 1, 2, 2, 1, 1},
        {"5x5-s2-p2-batch1",   1,  4, 13, 11,  3, 5, 5, 2, 2, 2, 2, 1, 1},
        {"1x1",                2,  7,  6,  6,  5, 1, 1, 1, 1, 0, 0, 1, 1},
        {"1x1-s2",             2,  5,  7,  7,  3, 1, 1, 2, 2, 0, 0, 1, 1},
        {"3x3-dil2-p2",        2,  3, 12, 12,  5, 3, 3, 1, 1, 2, 2, 2, 2},
        {"3x3-dil2-s2",        1,  4, 13, 13,  3, 3, 3, 2, 2, 1, 1, 2, 2},
        {"non-square",         2,  3,  7, 15,  4, 3, 5, 1, 2, 1, 2, 1, 1},
        {"batch1-k33",         1, 16, 20, 20, 33, 3, 3, 1, 1, 1, 1, 1, 1},
        {"taps>kc",            1, 48,  8,  8, 16, 3, 3, 1, 1, 1, 1, 1, 1},
        {"stride3-ragged",     1,  3, 10, 11,  2, 3, 3, 3, 3, 1, 0, 1, 1},
    };
    std::vector<OpCase> cases;
    for (const Conv& t : shapes) add_cases(cases, t);

    // Backward-weight twice on one context: the second result minus the first must be exactly 0 on both backends.
    // This shape gives dW few tiles and a long n p q reduction, which the GPU splits across blocks: the splits'
    // partials must add in a fixed order, never by racing atomics.
    const Conv split{"split-reduction", 32, 16, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1};
    const kiln_conv2d_desc d = desc_of(split);
    const size_t nx = d.n * d.c * d.h * d.w, nw = d.k * d.c * d.r * d.s, ny = d.n * d.k * d.p * d.q;
    cases.push_back(OpCase{"conv2d_backward_weight repeatable", shape_of(split, d), 0.0,
                           {in_f32(host_uniform(nx, 71)), in_f32(host_uniform(ny, 72)), out_f32(nw), out_f32(nw)},
                           [d, nw](kiln_context* ctx, const std::vector<void*>& p) {
                               const float *x = (const float*)p[0], *dy = (const float*)p[1];
                               float *first = (float*)p[2], *diff = (float*)p[3];
                               kiln_status st = kiln_conv2d_backward_weight_f32(ctx, &d, x, dy, first, nullptr);
                               if (st == KILN_OK) st = kiln_conv2d_backward_weight_f32(ctx, &d, x, dy, diff, nullptr);
                               if (st == KILN_OK)
                                   st = kiln_binary_f32(ctx, KILN_SUB, diff, (int64_t)nw, first, (int64_t)nw, diff, 1,
                                                        (int64_t)nw);
                               // first differs between backends by rounding: compare only the difference.
                               if (st == KILN_OK) st = kiln_fill_f32(ctx, first, (int64_t)nw, 0.0f);
                               return st;
                           }});
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("conv2d", conv2d_cases);
}  // namespace kiln::parity

// Parity cases for 2-D pooling: max (values and argmax indices) and average (both pad modes), forward and backward,
// kernels 2 and 3, strides 1 to 3, padding 0 and 1, odd and non-square sizes, overlapping windows (stride < kernel),
// and a training-sized batch. The backends share the window math and its order (kernels/common/pool_geometry.h),
// so every output must be bit-identical: tolerance 0 throughout.
#include <string>

#include "parity/harness.h"

namespace kiln::parity {
namespace {

struct Cfg {
    int64_t n, c, h, w;
    int32_t kh, kw, sh, sw, ph, pw;
};

kiln_pool2d_desc desc_of(const Cfg& g) {
    kiln_pool2d_desc d{};
    d.n = g.n;
    d.c = g.c;
    d.h = g.h;
    d.w = g.w;
    d.kernel_h = g.kh;
    d.kernel_w = g.kw;
    d.stride_h = g.sh;
    d.stride_w = g.sw;
    d.pad_h = g.ph;
    d.pad_w = g.pw;
    d.p = (g.h + 2 * g.ph - g.kh) / g.sh + 1;
    d.q = (g.w + 2 * g.pw - g.kw) / g.sw + 1;
    return d;
}

std::string shape_of(const Cfg& g) {
    return "(" + std::to_string(g.n) + "," + std::to_string(g.c) + "," + std::to_string(g.h) + "," +
           std::to_string(g.w) + ") k" + std::to_string(g.kh) + "x" + std::to_string(g.kw) + " s" +
           std::to_string(g.sh) + "x" + std::to_string(g.sw) + " p" + std::to_string(g.ph) + "x" +
           std::to_string(g.pw);
}

// Host argmax indices for the backward's input: the first maximum in window order, as both backends produce; every
// third one is then scrambled (possibly outside its window or the plane), which both backends must ignore alike.
std::vector<int32_t> host_indices(const kiln_pool2d_desc& d, const std::vector<float>& x, uint32_t seed) {
    std::vector<int32_t> index((size_t)(d.n * d.c * d.p * d.q));
    const std::vector<float> r = host_uniform(index.size(), seed, -0.1f, 1.1f);
    for (int64_t pl = 0; pl < d.n * d.c; ++pl)
        for (int64_t oh = 0; oh < d.p; ++oh)
            for (int64_t ow = 0; ow < d.q; ++ow) {
                float best = 0.0f;
                int64_t arg = -1;
                for (int64_t row = oh * d.stride_h - d.pad_h; row < oh * d.stride_h - d.pad_h + d.kernel_h; ++row)
                    for (int64_t col = ow * d.stride_w - d.pad_w; col < ow * d.stride_w - d.pad_w + d.kernel_w; ++col) {
                        if (row < 0 || row >= d.h || col < 0 || col >= d.w) continue;
                        const float v = x[(size_t)((pl * d.h + row) * d.w + col)];
                        if (arg < 0 || v > best) {
                            best = v;
                            arg = row * d.w + col;
                        }
                    }
                const size_t o = (size_t)((pl * d.p + oh) * d.q + ow);
                index[o] = o % 3 == 2 ? (int32_t)(r[o] * (float)(d.h * d.w)) : (int32_t)arg;
            }
    return index;
}

void add_cases(std::vector<OpCase>& cases, const Cfg& g) {
    const kiln_pool2d_desc d = desc_of(g);
    const std::string shape = shape_of(g);
    const size_t nx = (size_t)(d.n * d.c * d.h * d.w), ny = (size_t)(d.n * d.c * d.p * d.q);
    const uint32_t seed = (uint32_t)(nx * 31 + g.kh * 7 + g.sh * 3 + g.ph);
    std::vector<float> x = host_uniform(nx, seed, -4.0f, 4.0f);
    // Quantize a copy to halves for the max cases: plenty of ties, so the first-in-window-order rule is exercised.
    std::vector<float> xq = x;
    for (auto& v : xq) v = (float)(int)(v * 2.0f) / 2.0f;
    const std::vector<float> dy = host_uniform(ny, seed + 1);

    cases.push_back(OpCase{"max_pool2d", shape, 0.0, {in_f32(xq), out_f32(ny), out_i32(ny)},
                           [d](kiln_context* ctx, const std::vector<void*>& p) {
                               return kiln_max_pool2d_f32(ctx, &d, (const float*)p[0], (float*)p[1], (int32_t*)p[2]);
                           }});
    cases.push_back(OpCase{"max_pool2d_backward", shape, 0.0,
                           {in_f32(dy), in_i32(host_indices(d, xq, seed + 2)), out_f32(nx)},
                           [d](kiln_context* ctx, const std::vector<void*>& p) {
                               return kiln_max_pool2d_backward_f32(ctx, &d, (const float*)p[0], (const int32_t*)p[1],
                                                                   (float*)p[2]);
                           }});
    for (int include = 0; include < 2; ++include) {
        const std::string s = shape + (include ? " include_pad" : " exclude_pad");
        cases.push_back(OpCase{"avg_pool2d", s, 0.0, {in_f32(x), out_f32(ny)},
                               [d, include](kiln_context* ctx, const std::vector<void*>& p) {
                                   return kiln_avg_pool2d_f32(ctx, &d, (const float*)p[0], (float*)p[1], include);
                               }});
        cases.push_back(OpCase{"avg_pool2d_backward", s, 0.0, {in_f32(dy), out_f32(nx)},
                               [d, include](kiln_context* ctx, const std::vector<void*>& p) {
                                   return kiln_avg_pool2d_backward_f32(ctx, &d, (const float*)p[0], (float*)p[1],
                                                                       include);
                               }});
    }
}

std::vector<OpCase> pool_cases() {
    std::vector<OpCase> cases;
    const Cfg configs[] = {
        {1, 3, 13, 13, 2, 2, 2, 2, 0, 0},    // the classic 2x2/2, odd size: the last row and column are dropped
        {1, 3, 13, 13, 2, 2, 2, 2, 1, 1},
        {1, 7, 13, 13, 3, 3, 1, 1, 1, 1},    // overlapping: each input is in up to 9 windows
        {1, 7, 13, 13, 3, 3, 2, 2, 1, 1},    // overlapping, strided
        {1, 3, 28, 28, 3, 3, 3, 3, 0, 0},
        {1, 7, 28, 28, 2, 2, 2, 2, 0, 0},
        {2, 3, 13, 9, 3, 2, 2, 1, 1, 0},     // non-square input, kernel, stride and padding
        {2, 5, 9, 28, 2, 3, 1, 3, 1, 1},
        {3, 1, 1, 1, 1, 1, 1, 1, 0, 0},      // 1x1 planes
        {1, 2, 2, 3, 3, 3, 1, 1, 1, 1},      // windows larger than the input itself, saved by padding
        {64, 32, 26, 26, 2, 2, 2, 2, 0, 0},  // training-sized (the CNN's first pool)
        {8, 16, 28, 28, 3, 3, 1, 1, 1, 1},
        {1, 2, 4, 1100, 3, 3, 1, 1, 1, 1},   // rows longer than the CPU backward's 512-output blocks
        {2, 3, 12, 13, 2, 2, 2, 2, 0, 0},    // 2x2/2 on the GPU's own kernel: odd width only (scalar loads) ...
        {2, 3, 13, 12, 2, 2, 2, 2, 0, 0},    // ... odd height only (float2 loads, a trailing row of zeros)
        {64, 64, 11, 11, 2, 2, 2, 2, 0, 0},  // the CNN's second pool
    };
    for (const Cfg& g : configs) add_cases(cases, g);
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("pool", pool_cases);
}  // namespace kiln::parity

// Positions and im2col rows of the CPU conv's implicit GEMM: see conv2d_im2col.h.
#include "cpu/conv2d_im2col.h"

#include <algorithm>
#include <cstring>

#include "cpu/work_items.h"

namespace kiln::cpu::im2col {

Plan make_plan(const Geometry& g, int64_t lmax, int64_t unit) {
    using work::balanced_block;
    using work::ceil_div;
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

void zero_throwaways(float* row, int64_t q, int64_t wp, int64_t j0, int64_t len) {
    // `at` walks the first throw-away of each row; the first run may have begun before j0 (at <= 0), never ended there.
    for (int64_t at = q - j0 % wp; at < len; at += wp) {
        const int64_t from = std::max<int64_t>(at, 0);
        zero_run(row + from, std::min(len, at + (wp - q)) - from);
    }
}

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

bool all_finite(const float* p, int64_t n) {
    uint32_t worst = 0;  // the largest exponent field seen: all ones is an inf or NaN
    for (int64_t i = 0; i < n; ++i) {
        uint32_t bits;
        std::memcpy(&bits, p + i, sizeof bits);
        worst = std::max(worst, bits & 0x7f800000u);
    }
    return worst != 0x7f800000u;
}

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

int64_t slab_rows_for(const Geometry& g, const Plan& pl, int64_t j0, int64_t len) {
    const int64_t row0 = j0 / pl.wp, off0 = j0 - row0 * pl.wp;
    const int64_t reach = off0 + len - 1 + (g.r - 1) * g.dilation_h * pl.wp + (g.s - 1) * g.dilation_w;
    return std::min(pl.hp - row0, reach / pl.wp + 1);
}

// Whole NR-wide panels as fixed-size copies: the compiler emits straight vector moves instead of calling memcpy.
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

void row_to_k16(const float* row, int64_t len, int64_t groups, int mr, int i, float* panel) {
    float* dst = panel + i * 16;
    const int64_t stride = int64_t(mr) * 16;
    int64_t g = 0;
    for (; (g + 1) * 16 <= len; ++g, dst += stride) std::memcpy(dst, row + g * 16, 16 * sizeof(float));
    for (; g < groups; ++g, dst += stride) {
        const int64_t n = std::clamp<int64_t>(len - g * 16, 0, 16);
        // Padding taps pass row == NULL with len 0: offsetting a null pointer is undefined even when nothing is read.
        if (n > 0) copy_run(dst, row + g * 16, n);
        zero_run(dst + n, 16 - n);
    }
}

}  // namespace kiln::cpu::im2col

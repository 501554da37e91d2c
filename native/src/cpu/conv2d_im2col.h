// Positions of the CPU conv's implicit GEMM (conv2d_gemm.cpp): how one image's output positions are laid out and cut
// into blocks (Plan), and the rows that feed the packed GEMM panels: im2col / col2im rows, zero-padded input slabs,
// and the writers into the micro-kernels' panel layouts.
#pragma once

#include <cstdint>

#include "common/conv_geometry.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace kiln::cpu::im2col {

using conv::Geometry;

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
Plan make_plan(const Geometry& g, int64_t lmax, int64_t unit);

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
void im2col_row(const Geometry& g, const float* xc, int64_t r, int64_t s, int64_t j0, int64_t len, float* dst);
// Generic col2im row, the transpose of im2col_row: adds src[i] into the x position tap (r, s) of output position
// j0 + i sees (padding positions are dropped). dxc is one input plane (h, w).
void col2im_row(const Geometry& g, float* dxc, int64_t r, int64_t s, int64_t j0, int64_t len, const float* src);
// Padded-width view of one dy row (pitch q) for positions [j0, j0 + len) with pitch wp: dst[i] = dy at the output
// (oh, ow) = divmod(j0 + i, wp) when ow < q, else 0 (the throw-away positions must contribute nothing).
void dy_row_padded(const float* dyrow, int64_t q, int64_t wp, int64_t j0, int64_t len, float* dst);
// Zeros the throw-away positions (ow >= q) among positions [j0, j0 + len) of a padded-width row: where a product with
// a zero dy is still NaN (0 times an inf or NaN), which would otherwise land on a real pixel or tap.
void zero_throwaways(float* row, int64_t q, int64_t wp, int64_t j0, int64_t len);
// Sum of one row with 16 independent lanes (vectorizes without reassociation) into a double: the bias gradients.
double row_sum(const float* v, int64_t n);
// Whether none of the n floats is an inf or NaN: the padded-width layout's throw-away products are exact zeros then.
bool all_finite(const float* p, int64_t n);
// Zero-padded copy of input rows [row0, row0 + rows) (padded coordinates) of channels [c0, c1) of one image x
// (c, h, w): plane i of the slab is at slab + i * plane, each row wp wide.
void fill_slab(const Geometry& g, const Plan& pl, const float* xn, int64_t c0, int64_t c1, int64_t row0, int64_t rows,
               float* slab, int64_t plane);
// Rows the slab of the block at j0 (len positions) needs, from padded row j0 / wp.
int64_t slab_rows_for(const Geometry& g, const Plan& pl, int64_t j0, int64_t len);
// row[0, len) into row kk of a packed GEMM B block (kb, ...): panel p (columns [p nr, p nr + nr)) is at
// panels + p * kb * nr, row-major (kb, nr). Columns from len to the end of the last panel get zeros.
void row_to_panels(const float* row, int64_t len, int nr, int64_t kb, int64_t kk, float* panels);
// row[0, len) into row i of a k16-interleaved A panel of `groups` groups (see WgradKernels): 16-float run g goes to
// panel + g * mr * 16 + i * 16. Positions from len to 16 * groups get zeros.
void row_to_k16(const float* row, int64_t len, int64_t groups, int mr, int i, float* panel);

}  // namespace kiln::cpu::im2col

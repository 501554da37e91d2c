// Index math and per-window rules of 2-D max/avg pooling, written once for native/src/cpu/pool.cpp and
// kernels/pool.cu: window bounds, which outputs cover an input (the gather backward), the avg divisor, and the max
// comparison. Both backends visit a window's in-bounds elements in (row, col) order and a covered input's outputs
// in (oh, ow) order, so with these helpers their results are bit-identical.
#pragma once

#include <stdint.h>

#include "numerics.h"

namespace kiln {

// One (n, c) plane's geometry: x plane (h, w) -> y plane (p, q). Validation (native/src/core/ops_pool.cpp) ensures
// kernel >= 1, stride >= 1, 0 <= 2 pad <= kernel and p, q from the floor formula, which together guarantee that every
// window holds at least one in-bounds element and ends inside the padded input.
struct PoolGeom {
    int64_t h, w;
    int64_t p, q;
    int32_t kh, kw;
    int32_t sh, sw;
    int32_t ph, pw;
};

// p = (h + 2 pad - kernel) / stride + 1, floor; only meaningful when h + 2 pad >= kernel.
KILN_HD int64_t pool_out_size(int64_t in, int32_t kernel, int32_t stride, int32_t pad) {
    return (in + 2 * (int64_t)pad - kernel) / stride + 1;
}

// Floor division for a possibly negative numerator (den > 0).
KILN_HD int64_t pool_floor_div(int64_t num, int64_t den) {
    const int64_t q = num / den;
    return (num % den != 0 && num < 0) ? q - 1 : q;
}

// In-bounds part [*lo, *hi) of output o's window along one axis: input [o s - pad, o s - pad + kernel) ∩ [0, in).
KILN_HD void pool_window(int64_t o, int32_t kernel, int32_t stride, int32_t pad, int64_t in, int64_t* lo, int64_t* hi) {
    const int64_t start = o * stride - pad;
    const int64_t end = start + kernel;
    *lo = start < 0 ? 0 : start;
    *hi = end < in ? end : in;
}

// Outputs [*lo, *hi) along one axis whose window covers input i: o s - pad <= i < o s - pad + kernel, 0 <= o < out.
KILN_HD void pool_covering(int64_t i, int32_t kernel, int32_t stride, int32_t pad, int64_t out, int64_t* lo,
                           int64_t* hi) {
    const int64_t a = i + pad;  // >= 0
    const int64_t first = a < kernel ? 0 : (a - kernel) / stride + 1;
    const int64_t last = a / stride + 1;
    *lo = first;
    *hi = last < out ? last : out;
}

// Outputs [*lo, *hi) along one axis whose window's element at offset k (0 <= k < kernel) is in bounds:
// 0 <= o s - pad + k < in. Drives the CPU's vectorized loops over a whole output row for one window offset.
KILN_HD void pool_outputs_at_offset(int32_t k, int32_t stride, int32_t pad, int64_t in, int64_t out, int64_t* lo,
                                    int64_t* hi) {
    const int64_t lead = (int64_t)pad - k;  // in int64: lead + stride - 1 overflows int32 at a stride near INT32_MAX
    const int64_t first = lead > 0 ? (lead + stride - 1) / stride : 0;
    const int64_t last = pool_floor_div(in - 1 + pad - k, stride) + 1;
    const int64_t end = last < out ? last : out;
    *lo = first;
    *hi = end > first ? end : first;  // empty, never inverted
}

// How many of output o's window cells count toward the avg-pool divisor along one axis: the full kernel when padding
// counts (with the floor formula a window never reaches past the padded input), else its in-bounds part (>= 1, see
// PoolGeom).
KILN_HD int64_t avg_pool_extent(int64_t o, int32_t kernel, int32_t stride, int32_t pad, int64_t in,
                                bool count_include_pad) {
    if (count_include_pad) return kernel;
    int64_t lo, hi;
    pool_window(o, kernel, stride, pad, in, &lo, &hi);
    return hi - lo;
}

// The avg-pool divisor of output (oh, ow): the product of its two extents (exact in int64, then rounded once).
KILN_HD float avg_pool_divisor_of(int64_t extent_h, int64_t extent_w) { return (float)(extent_h * extent_w); }
KILN_HD float avg_pool_divisor(const PoolGeom& g, int64_t oh, int64_t ow, bool count_include_pad) {
    return avg_pool_divisor_of(avg_pool_extent(oh, g.kh, g.sh, g.ph, g.h, count_include_pad),
                               avg_pool_extent(ow, g.kw, g.sw, g.pw, g.w, count_include_pad));
}

// Max pooling's comparison: v replaces the current best when it is larger, or when it is NaN and the best is not
// (NaN propagates, as in PyTorch; the first NaN in window order wins). Ties keep the earlier element.
// Written with non-short-circuit operators so the CPU's loop over a row stays branch-free and vectorizes.
KILN_HD bool pool_max_beats(float v, float best) { return (best == best) & ((v > best) | (v != v)); }

}  // namespace kiln

// 2-D max and average pooling on the CPU. The forward is parallel over output rows, the backward over (n, c) planes
// (windows overlap when stride < kernel, so a plane's dx belongs to one task). Inner loops run over a whole output
// row for one window offset (r, k), which is unit-stride when stride == 1 and vectorizes; that order still visits
// each window's elements in (row, col) order and each input's covering outputs in (oh, ow) order, exactly as the
// per-element loops of kernels/pool.cu do, so both backends produce the same bits. The CNN's 2x2 stride-2 pool
// takes the vector rows of cpu/pool_simd.h where the CPU has AVX-512 or AVX2: the same comparisons in the same order,
// 16 or 8 outputs a step.
#include "pool.h"

#include <algorithm>
#include <atomic>

#include "cpu/parallel.h"
#include "cpu/pool_simd.h"
#include "cpu/simd.h"

namespace kiln::cpu {

namespace {

constexpr int64_t kGrainWork = 1 << 14;  // elements touched per parallel_for chunk: enough to amortize the fork

std::atomic<bool> g_force_generic{false};

// The CNN's pool (2x2, stride 2, no padding) takes the vector rows of this CPU's ISA, where it has AVX-512 or AVX2.
const Pool2x2Rows* fast_2x2(const PoolGeom& g) {
    static const Pool2x2Rows* rows = spans_for_isa(avx512::kPool2x2Rows, avx2::kPool2x2Rows);
    const bool fits = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0;
    return fits && !g_force_generic.load(std::memory_order_relaxed) ? rows : nullptr;
}

int64_t grain_for(int64_t work_per_item) {
    return std::max<int64_t>(1, kGrainWork / std::max<int64_t>(1, work_per_item));
}

// Runs row(plane, oh) for every output row of every plane; rows are independent, so any split is safe.
template <typename Row>
void for_output_rows(const PoolGeom& g, int64_t planes, const Row& row) {
    parallel_for(planes * g.p, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) row(t / g.p, t % g.p);
    }, grain_for(g.q * g.kh * g.kw));
}

// Calls tap(r, shift, lo, hi) for every tap of an output row's windows, input rows [r0, r1) ascending and window
// columns k ascending within a row: outputs [lo, hi) of the row read column ow * stride_w + shift of input row r.
// This is the order in which kernels/pool.cu visits a window's elements, so forward sums and ties match it.
template <typename Tap>
inline void for_window_taps(const PoolGeom& g, int64_t r0, int64_t r1, const Tap& tap) {
    for (int64_t r = r0; r < r1; ++r)
        for (int32_t k = 0; k < g.kw; ++k) {
            int64_t lo, hi;
            pool_outputs_at_offset(k, g.sw, g.pw, g.w, g.q, &lo, &hi);
            tap(r, (int64_t)k - g.pw, lo, hi);
        }
}

// The per-row and per-plane bodies take kUnit = (stride_w == 1) as a template argument: with a unit stride known at
// compile time, their inner loops over ow are contiguous and vectorize.

// One output row (p index oh) of max pooling: best and arg are the row's q outputs.
template <bool kUnit>
void max_row(const PoolGeom& g, const float* xp, int64_t oh, float* best, int32_t* arg) {
    const int64_t sw = kUnit ? 1 : g.sw;
    int64_t r0, r1;
    pool_window(oh, g.kh, g.sh, g.ph, g.h, &r0, &r1);
    // Seed each output with its window's first in-bounds element (row r0, first in-bounds column): padding never
    // takes part, and an all -inf window still reports a real position.
    for (int64_t ow = 0; ow < g.q; ++ow) {
        const int64_t c0 = std::max<int64_t>(0, ow * sw - g.pw);
        best[ow] = xp[r0 * g.w + c0];
        arg[ow] = (int32_t)(r0 * g.w + c0);
    }
    for_window_taps(g, r0, r1, [&](int64_t r, int64_t shift, int64_t lo, int64_t hi) {
        const float* xr = xp + r * g.w;
        const int32_t base = (int32_t)(r * g.w + shift);
        for (int64_t ow = lo; ow < hi; ++ow) {
            const float v = xr[ow * sw + shift];
            const bool take = pool_max_beats(v, best[ow]);
            best[ow] = take ? v : best[ow];
            arg[ow] = take ? base + (int32_t)(ow * sw) : arg[ow];
        }
    });
}

// One output row of average pooling; y accumulates in place, then is divided.
template <bool kUnit>
void avg_row(const PoolGeom& g, const float* xp, int64_t oh, float* acc, bool count_include_pad) {
    const int64_t sw = kUnit ? 1 : g.sw;
    int64_t r0, r1;
    pool_window(oh, g.kh, g.sh, g.ph, g.h, &r0, &r1);
    std::fill(acc, acc + g.q, 0.0f);
    for_window_taps(g, r0, r1, [&](int64_t r, int64_t shift, int64_t lo, int64_t hi) {
        const float* xr = xp + r * g.w;
        for (int64_t ow = lo; ow < hi; ++ow) acc[ow] = kiln_fadd(acc[ow], xr[ow * sw + shift]);
    });
    for (int64_t ow = 0; ow < g.q; ++ow) acc[ow] = kiln_fdiv(acc[ow], avg_pool_divisor(g, oh, ow, count_include_pad));
}

// One plane of the average-pooling backward: dxp (h, w) is assigned from dyp (p, q). Each output's share dy / divisor
// is computed once into a stack block of outputs (no allocation inside a pool task, whose exceptions would be lost).
template <bool kUnit>
void avg_backward_plane(const PoolGeom& g, const float* dyp, float* dxp, bool count_include_pad) {
    constexpr int64_t kBlock = 512;
    float share[kBlock];
    const int64_t sw = kUnit ? 1 : g.sw;
    std::fill(dxp, dxp + g.h * g.w, 0.0f);
    for (int64_t oh = 0; oh < g.p; ++oh) {
        int64_t r0, r1;
        pool_window(oh, g.kh, g.sh, g.ph, g.h, &r0, &r1);
        // Blocks of outputs in ascending ow; within one, window columns in descending k, so an input column
        // col = ow sw - pw + k still receives its outputs in ascending ow: the order of the GPU's gather.
        for (int64_t b0 = 0; b0 < g.q; b0 += kBlock) {
            const int64_t b1 = std::min(g.q, b0 + kBlock);
            for (int64_t ow = b0; ow < b1; ++ow)
                share[ow - b0] = kiln_fdiv(dyp[oh * g.q + ow], avg_pool_divisor(g, oh, ow, count_include_pad));
            for (int64_t r = r0; r < r1; ++r) {
                float* dxr = dxp + r * g.w;
                for (int32_t k = g.kw - 1; k >= 0; --k) {
                    int64_t lo, hi;
                    pool_outputs_at_offset(k, g.sw, g.pw, g.w, g.q, &lo, &hi);
                    lo = std::max(lo, b0);
                    hi = std::min(hi, b1);
                    const int64_t shift = (int64_t)k - g.pw;
                    for (int64_t ow = lo; ow < hi; ++ow)
                        dxr[ow * sw + shift] = kiln_fadd(dxr[ow * sw + shift], share[ow - b0]);
                }
            }
        }
    }
}

}  // namespace

void max_pool2d_f32(const PoolGeom& g, int64_t planes, const float* x, float* y, int32_t* index) {
    if (planes == 0 || g.p == 0 || g.q == 0) return;
    const Pool2x2Rows* fast = fast_2x2(g);
    for_output_rows(g, planes, [&](int64_t plane, int64_t oh) {
        const float* xp = x + plane * g.h * g.w;
        const int64_t o = (plane * g.p + oh) * g.q;
        const int64_t r0 = 2 * oh * g.w;
        if (fast)
            fast->max_row(xp + r0, xp + r0 + g.w, g.q, (int32_t)r0, (int32_t)(r0 + g.w), y + o, index + o);
        else if (g.sw == 1) max_row<true>(g, xp, oh, y + o, index + o);
        else max_row<false>(g, xp, oh, y + o, index + o);
    });
}

void max_pool2d_backward_f32(const PoolGeom& g, int64_t planes, const float* dy, const int32_t* index, float* dx) {
    const int64_t hw = g.h * g.w, pq = g.p * g.q;
    const Pool2x2Rows* fast = fast_2x2(g);
    parallel_for(planes, [&](int64_t b0, int64_t b1) {
        for (int64_t plane = b0; plane < b1; ++plane) {
            float* dxp = dx + plane * hw;
            const float* dyp = dy + plane * pq;
            const int32_t* ip = index + plane * pq;
            if (fast) {  // windows tile the input without overlap: each row pair is assigned whole
                for (int64_t oh = 0; oh < g.p; ++oh) {
                    const int64_t r0 = 2 * oh * g.w;
                    fast->max_backward_row(dyp + oh * g.q, ip + oh * g.q, g.q, (int32_t)r0, (int32_t)(r0 + g.w),
                                           dxp + r0, dxp + r0 + g.w);
                    for (int64_t col = 2 * g.q; col < g.w; ++col) dxp[r0 + col] = dxp[r0 + g.w + col] = 0.0f;
                }
                std::fill(dxp + 2 * g.p * g.w, dxp + hw, 0.0f);  // an odd last row no window covers
                continue;
            }
            std::fill(dxp, dxp + hw, 0.0f);
            // Outputs in (oh, ow) order: the order in which kernels/pool.cu's gather adds them up.
            for (int64_t oh = 0; oh < g.p; ++oh) {
                int64_t r0, r1;
                pool_window(oh, g.kh, g.sh, g.ph, g.h, &r0, &r1);
                for (int64_t ow = 0; ow < g.q; ++ow) {
                    const int64_t i = ip[oh * g.q + ow];
                    if (i < 0 || i >= hw) continue;
                    const int64_t row = i / g.w, col = i - row * g.w;
                    int64_t c0, c1;
                    pool_window(ow, g.kw, g.sw, g.pw, g.w, &c0, &c1);
                    // An index outside its own window is ignored, as the GPU's gather (which only visits covering
                    // outputs) must.
                    if (row < r0 || row >= r1 || col < c0 || col >= c1) continue;
                    dxp[i] = kiln_fadd(dxp[i], dyp[oh * g.q + ow]);
                }
            }
        }
    }, grain_for(hw + pq));
}

void avg_pool2d_f32(const PoolGeom& g, int64_t planes, const float* x, float* y, bool count_include_pad) {
    if (planes == 0 || g.p == 0 || g.q == 0) return;
    for_output_rows(g, planes, [&](int64_t plane, int64_t oh) {
        const float* xp = x + plane * g.h * g.w;
        float* yr = y + (plane * g.p + oh) * g.q;
        if (g.sw == 1) avg_row<true>(g, xp, oh, yr, count_include_pad);
        else avg_row<false>(g, xp, oh, yr, count_include_pad);
    });
}

void avg_pool2d_backward_f32(const PoolGeom& g, int64_t planes, const float* dy, float* dx, bool count_include_pad) {
    const int64_t hw = g.h * g.w, pq = g.p * g.q;
    parallel_for(planes, [&](int64_t b0, int64_t b1) {
        for (int64_t plane = b0; plane < b1; ++plane) {
            if (g.sw == 1) avg_backward_plane<true>(g, dy + plane * pq, dx + plane * hw, count_include_pad);
            else avg_backward_plane<false>(g, dy + plane * pq, dx + plane * hw, count_include_pad);
        }
    }, grain_for(hw + pq * g.kh * g.kw));
}

namespace pool_detail {
void force_generic_for_testing(bool on) { g_force_generic.store(on); }
}  // namespace pool_detail

}  // namespace kiln::cpu

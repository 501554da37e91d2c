// 2-D max and average pooling on the GPU. Conventions: forward and backward assign their outputs. The forward runs
// one thread per output, walking its window's in-bounds elements in (row, col) order; 2x2 max pooling with stride 2
// and no padding has kernels of its own. The backward is a gather: one
// thread per input element sums, in (oh, ow) order, the outputs whose windows cover it (at most
// ceil(kernel / stride) per axis), so overlapping windows (stride < kernel) need neither atomics nor a zeroing pass,
// and every dx element is written exactly once. Window math is kernels/common/pool_geometry.h, shared with
// native/src/cpu/pool.cpp; both backends visit elements in the same order with the same IEEE ops, so they agree
// bit for bit.
#include <cstdint>

#include "common/launch.h"
#include "common/pool_geometry.h"
#include "common/reduce_util.cuh"
#include "pool.h"

namespace kiln::cuda {

namespace {

constexpr int kThreads = 256;

// The 32-bit index path is taken only when index + grid stride cannot wrap.

// k -> (plane, oh, ow) of a (planes, p, q) tensor, or (plane, ih, iw) of a (planes, h, w) one.
template <typename Index>
struct Pos3 {
    Index plane, row, col;
};
template <typename Index>
__device__ __forceinline__ Pos3<Index> split(Index k, Index rows, Index cols) {
    const Index t = k / cols;
    return Pos3<Index>{t / rows, t - (t / rows) * rows, k - t * cols};
}

// ---- 2x2, stride 2, no padding: the CNN's pooling ------------------------------------------------------------------
// Every window lies inside the image and each input element below row 2p and column 2q is in exactly one window, so a
// thread per output reads its four inputs directly (a float2 per row where the rows are 8-byte aligned) and, in the
// backward, writes those four dx (and the zeros of an odd trailing row or column) itself: no window or covering math
// per element, which held the general kernels at 19-21% of an H200's copy bandwidth. Thread (x, y) of the grid is
// output column x of output row y of the flattened (planes * p) rows. Same order and comparisons as the general
// kernels: the same bits.
bool is_pool2x2(const PoolGeom& g) {
    return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && g.p == g.h / 2 &&
           g.q == g.w / 2 && g.p > 0 && g.q > 0;
}

// The 2x2 window's top-left input offset in x (or dx) for output (row rr = plane * p + oh, column ow).
__device__ __forceinline__ int64_t pool2x2_origin(const PoolGeom& g, int64_t rr, int64_t ow) {
    const int64_t plane = rr / g.p, oh = rr - plane * g.p;
    return plane * g.h * g.w + 2 * oh * g.w + 2 * ow;
}

template <bool kPairs>
__device__ __forceinline__ void load_pair(const float* p, float* a, float* b) {
    if constexpr (kPairs) {
        const float2 v = __ldg(reinterpret_cast<const float2*>(p));
        *a = v.x, *b = v.y;
    } else {
        *a = __ldg(p), *b = __ldg(p + 1);
    }
}

template <bool kPairs>
__global__ void __launch_bounds__(kThreads) max_pool2x2_kernel(PoolGeom g, int64_t rows, const float* __restrict__ x,
                                                               float* __restrict__ y, int32_t* __restrict__ index) {
    const int64_t ow = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (ow >= g.q) return;
    for (int64_t rr = blockIdx.y; rr < rows; rr += gridDim.y) {
        const int64_t at = pool2x2_origin(g, rr, ow);
        const int64_t plane_at = (rr / g.p) * g.h * g.w;
        float v[4];
        load_pair<kPairs>(x + at, &v[0], &v[1]);
        load_pair<kPairs>(x + at + g.w, &v[2], &v[3]);
        const int32_t first = (int32_t)(at - plane_at);  // the window's top-left position in its plane
        const int32_t pos[4] = {first, first + 1, first + (int32_t)g.w, first + (int32_t)g.w + 1};
        float best = v[0];
        int32_t arg = pos[0];
#pragma unroll
        for (int u = 1; u < 4; ++u) {
            if (pool_max_beats(v[u], best)) {
                best = v[u];
                arg = pos[u];
            }
        }
        y[rr * g.q + ow] = best;
        index[rr * g.q + ow] = arg;
    }
}

// dx of output (rr, ow)'s window: dy where the index points, +0 elsewhere (0 + dy, as the general kernel adds it),
// plus the zeros of the odd trailing column (w odd, last ow) and row (h odd, last oh) that no window covers.
__global__ void __launch_bounds__(kThreads) max_pool2x2_backward_kernel(PoolGeom g, int64_t rows,
                                                                        const float* __restrict__ dy,
                                                                        const int32_t* __restrict__ index,
                                                                        float* __restrict__ dx) {
    const int64_t ow = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (ow >= g.q) return;
    for (int64_t rr = blockIdx.y; rr < rows; rr += gridDim.y) {
        const int64_t at = pool2x2_origin(g, rr, ow), plane_at = (rr / g.p) * g.h * g.w;
        const int32_t hit = __ldg(index + rr * g.q + ow), first = (int32_t)(at - plane_at);
        const float d = kiln_fadd(0.0f, __ldg(dy + rr * g.q + ow));
        const int32_t w = (int32_t)g.w;
        dx[at] = hit == first ? d : 0.0f;
        dx[at + 1] = hit == first + 1 ? d : 0.0f;
        dx[at + w] = hit == first + w ? d : 0.0f;
        dx[at + w + 1] = hit == first + w + 1 ? d : 0.0f;
        const bool last_col = (g.w & 1) && ow == g.q - 1, last_row = (g.h & 1) && rr - (rr / g.p) * g.p == g.p - 1;
        if (last_col) dx[at + 2] = 0.0f, dx[at + w + 2] = 0.0f;
        if (last_row) {
            dx[at + 2 * w] = 0.0f;
            dx[at + 2 * w + 1] = 0.0f;
            if (last_col) dx[at + 2 * w + 2] = 0.0f;
        }
    }
}

dim3 pool2x2_grid(const PoolGeom& g, int64_t rows) {
    return dim3((unsigned)((g.q + kThreads - 1) / kThreads), (unsigned)(rows < 65535 ? rows : 65535));
}

template <typename Index>
__global__ void __launch_bounds__(kThreads) max_pool_kernel(PoolGeom g, Index total, const float* __restrict__ x,
                                                            float* __restrict__ y, int32_t* __restrict__ index) {
    for (Index k = flat_thread_index<Index>(); k < total; k += flat_thread_stride<Index>()) {
        const Pos3<Index> o = split<Index>(k, (Index)g.p, (Index)g.q);
        int64_t r0, r1, c0, c1;
        pool_window(o.row, g.kh, g.sh, g.ph, g.h, &r0, &r1);
        pool_window(o.col, g.kw, g.sw, g.pw, g.w, &c0, &c1);
        const float* xp = x + (int64_t)o.plane * g.h * g.w;
        // h * w <= INT32_MAX (validated for the int32 index), so positions inside the plane are 32-bit.
        const int32_t w = (int32_t)g.w;
        int32_t arg = (int32_t)r0 * w + (int32_t)c0;  // the first in-bounds element seeds the max, as on the CPU
        float best = __ldg(xp + arg);
        for (int32_t r = (int32_t)r0; r < (int32_t)r1; ++r) {
            for (int32_t c = (int32_t)c0; c < (int32_t)c1; ++c) {
                const float v = __ldg(xp + r * w + c);
                if (pool_max_beats(v, best)) {
                    best = v;
                    arg = r * w + c;
                }
            }
        }
        y[k] = best;
        index[k] = arg;
    }
}

template <typename Index>
__global__ void __launch_bounds__(kThreads) max_pool_backward_kernel(PoolGeom g, Index total,
                                                                     const float* __restrict__ dy,
                                                                     const int32_t* __restrict__ index,
                                                                     float* __restrict__ dx) {
    for (Index k = flat_thread_index<Index>(); k < total; k += flat_thread_stride<Index>()) {
        const Pos3<Index> i = split<Index>(k, (Index)g.h, (Index)g.w);
        int64_t oh0, oh1, ow0, ow1;
        pool_covering(i.row, g.kh, g.sh, g.ph, g.p, &oh0, &oh1);
        pool_covering(i.col, g.kw, g.sw, g.pw, g.q, &ow0, &ow1);
        const int32_t me = (int32_t)i.row * (int32_t)g.w + (int32_t)i.col;
        const int64_t base = (int64_t)i.plane * g.p * g.q;
        float acc = 0.0f;
        for (int64_t oh = oh0; oh < oh1; ++oh) {
            for (int64_t ow = ow0; ow < ow1; ++ow) {
                const int64_t o = base + oh * g.q + ow;
                if (__ldg(index + o) == me) acc = kiln_fadd(acc, __ldg(dy + o));
            }
        }
        dx[k] = acc;
    }
}

template <typename Index>
__global__ void __launch_bounds__(kThreads) avg_pool_kernel(PoolGeom g, Index total, const float* __restrict__ x,
                                                            float* __restrict__ y, bool count_include_pad) {
    for (Index k = flat_thread_index<Index>(); k < total; k += flat_thread_stride<Index>()) {
        const Pos3<Index> o = split<Index>(k, (Index)g.p, (Index)g.q);
        int64_t r0, r1, c0, c1;
        pool_window(o.row, g.kh, g.sh, g.ph, g.h, &r0, &r1);
        pool_window(o.col, g.kw, g.sw, g.pw, g.w, &c0, &c1);
        const float* xp = x + (int64_t)o.plane * g.h * g.w;
        float acc = 0.0f;
        for (int64_t r = r0; r < r1; ++r) {
            const float* xr = xp + r * g.w;
            for (int64_t c = c0; c < c1; ++c) acc = kiln_fadd(acc, __ldg(xr + c));
        }
        y[k] = kiln_fdiv(acc, avg_pool_divisor(g, o.row, o.col, count_include_pad));
    }
}

template <typename Index>
__global__ void __launch_bounds__(kThreads) avg_pool_backward_kernel(PoolGeom g, Index total,
                                                                     const float* __restrict__ dy,
                                                                     float* __restrict__ dx, bool count_include_pad) {
    for (Index k = flat_thread_index<Index>(); k < total; k += flat_thread_stride<Index>()) {
        const Pos3<Index> i = split<Index>(k, (Index)g.h, (Index)g.w);
        int64_t oh0, oh1, ow0, ow1;
        pool_covering(i.row, g.kh, g.sh, g.ph, g.p, &oh0, &oh1);
        pool_covering(i.col, g.kw, g.sw, g.pw, g.q, &ow0, &ow1);
        const float* dyp = dy + (int64_t)i.plane * g.p * g.q;
        float acc = 0.0f;
        for (int64_t oh = oh0; oh < oh1; ++oh) {
            const int64_t eh = avg_pool_extent(oh, g.kh, g.sh, g.ph, g.h, count_include_pad);  // hoisted out of ow
            for (int64_t ow = ow0; ow < ow1; ++ow) {
                const int64_t ew = avg_pool_extent(ow, g.kw, g.sw, g.pw, g.w, count_include_pad);
                const float div = avg_pool_divisor_of(eh, ew);
                acc = kiln_fadd(acc, kiln_fdiv(__ldg(dyp + oh * g.q + ow), div));
            }
        }
        dx[k] = acc;
    }
}

}  // namespace

cudaError_t max_pool2d_f32(cudaStream_t s, const PoolGeom& g, int64_t planes, const float* x, float* y,
                           int32_t* index) {
    const int64_t total = planes * g.p * g.q;
    if (total > 0 && is_pool2x2(g)) {
        const int64_t rows = planes * g.p;
        // float2 rows: x 8-byte aligned and w even, so every window's row pair starts on an 8-byte boundary.
        if (((uintptr_t)x & 7u) == 0 && g.w % 2 == 0)
            max_pool2x2_kernel<true><<<pool2x2_grid(g, rows), kThreads, 0, s>>>(g, rows, x, y, index);
        else
            max_pool2x2_kernel<false><<<pool2x2_grid(g, rows), kThreads, 0, s>>>(g, rows, x, y, index);
        return cudaGetLastError();
    }
    with_index_width(total, [&](auto width) {
        using Index = decltype(width);
        max_pool_kernel<Index><<<grid_1d(total, kThreads), kThreads, 0, s>>>(g, (Index)total, x, y, index);
    });
    return cudaGetLastError();
}

cudaError_t max_pool2d_backward_f32(cudaStream_t s, const PoolGeom& g, int64_t planes, const float* dy,
                                    const int32_t* index, float* dx) {
    const int64_t total = planes * g.h * g.w;
    if (total > 0 && is_pool2x2(g)) {
        const int64_t rows = planes * g.p;
        max_pool2x2_backward_kernel<<<pool2x2_grid(g, rows), kThreads, 0, s>>>(g, rows, dy, index, dx);
        return cudaGetLastError();
    }
    with_index_width(total, [&](auto width) {
        using Index = decltype(width);
        max_pool_backward_kernel<Index><<<grid_1d(total, kThreads), kThreads, 0, s>>>(g, (Index)total, dy, index, dx);
    });
    return cudaGetLastError();
}

cudaError_t avg_pool2d_f32(cudaStream_t s, const PoolGeom& g, int64_t planes, const float* x, float* y,
                           bool count_include_pad) {
    const int64_t total = planes * g.p * g.q;
    with_index_width(total, [&](auto width) {
        using Index = decltype(width);
        avg_pool_kernel<Index><<<grid_1d(total, kThreads), kThreads, 0, s>>>(g, (Index)total, x, y, count_include_pad);
    });
    return cudaGetLastError();
}

cudaError_t avg_pool2d_backward_f32(cudaStream_t s, const PoolGeom& g, int64_t planes, const float* dy, float* dx,
                                    bool count_include_pad) {
    const int64_t total = planes * g.h * g.w;
    with_index_width(total, [&](auto width) {
        using Index = decltype(width);
        avg_pool_backward_kernel<Index><<<grid_1d(total, kThreads), kThreads, 0, s>>>(g, (Index)total, dy, dx, count_include_pad);
    });
    return cudaGetLastError();
}

}  // namespace kiln::cuda

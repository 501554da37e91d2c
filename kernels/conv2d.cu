// 2-D convolution kernels (NCHW fp32) as implicit GEMMs: no im2col buffer in global memory; each block gathers its
// tiles of input patches straight from x (or dy) into shared memory, with the index math of
// kernels/common/conv_geometry.h (the same text the CPU backend runs). Conventions: every entry assigns its
// outputs; padding reads as zero; any size, stride, padding and dilation.
//   forward          y (k, n p q)   = W (k, c r s)     * col(x) (c r s, n p q)
//   backward-data    dx (c, n h w)  = W' (c, k r s)    * col'(dy) (k r s, n h w)   (each dx element gathers the dy
//                                                       positions that saw it: no scatter, no atomics)
//   backward-weight  dW (k, c r s)  = dy (k, n p q)    * col(x)^T (n p q, c r s)   split over n p q across blocks
//                                                       when dW alone has too few tiles; each split stores its own
//                                                       partial dW and a second kernel sums them in split order, so
//                                                       the result is the same on every run (no float atomics)
// One block computes a 64 x 64 tile of the GEMM with 256 threads, 4 x 4 accumulators each, over 16-deep slices
// staged through double-buffered shared memory: the next slice is loaded into registers while the current one is
// multiplied, so one __syncthreads per slice suffices.
#include "conv2d.h"

#include <algorithm>
#include <cstdint>

#include "common/conv_geometry.h"
#include "common/kernel_path.h"

namespace kiln::cuda {

namespace {

constexpr int kBM = 64, kBN = 64, kBK = 16;  // GEMM tile: rows x columns x depth per slice
constexpr int kThreads = 256;                // 16 x 16 threads, each a 4 x 4 register tile
constexpr int kPad = 4;                      // row padding of the shared tiles: keeps float4 alignment

using conv::Geometry;

// ---- __global__ kernels and their device helpers ---------------------------------------------------------------

// Load pattern shared by the three problems (each thread moves 4 floats of each operand per slice):
//   A (rows x depth): row m0 + tid / 4, depth k0 + (tid % 4) * 4 + i   (4 consecutive depth indices of one row)
//   B (depth x cols): depth k0 + tid / 16, column n0 + (tid % 16) * 4 + i (4 consecutive columns of one depth)
// so the per-column index math of B (which output position, which image) is done once per thread, before the loop,
// and each slice only decodes one depth index per thread.

// Forward. Rows: filters k. Depth: taps (c, r, s). Columns: output positions (n, oh, ow).
struct Forward {
    Geometry g;
    const float* __restrict__ x;
    const float* __restrict__ w;
    const float* __restrict__ bias;
    float* __restrict__ y;
    int crs, rs, hw, pq;
    int64_t cols;  // n p q

    struct Cols {
        int64_t base[4];  // x offset of the column's image, or -1 past the last column
        int ih0[4], iw0[4];
    };
    __device__ void range(int64_t& begin, int64_t& end) const { begin = 0, end = crs; }
    __device__ void setup(Cols& st, int tid, int64_t n0) const {
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const int64_t j = n0 + (tid % 16) * 4 + i;
            st.base[i] = -1;
            st.ih0[i] = st.iw0[i] = 0;
            if (j < cols) {
                const int64_t ni = j / pq;
                const int pos = (int)(j - ni * pq), oh = pos / (int)g.q, ow = pos - oh * (int)g.q;
                st.base[i] = ni * g.c * hw;
                st.ih0[i] = (int)conv::input_index(oh, 0, g.stride_h, g.pad_h, g.dilation_h);
                st.iw0[i] = (int)conv::input_index(ow, 0, g.stride_w, g.pad_w, g.dilation_w);
            }
        }
    }
    __device__ void load_a(float (&v)[4], int tid, int64_t m0, int64_t k0) const {
        const int64_t m = m0 + tid / 4;
        const int64_t kk = k0 + (tid % 4) * 4;
#pragma unroll
        for (int i = 0; i < 4; ++i) v[i] = (m < g.k && kk + i < crs) ? __ldg(w + m * crs + kk + i) : 0.0f;
    }
    __device__ void load_b(float (&v)[4], const Cols& st, int tid, int64_t k0) const {
        const int kk = (int)k0 + tid / 16;
        const int c = kk / rs, rem = kk - c * rs, r = rem / (int)g.s, s = rem - r * (int)g.s;
        const int dh = r * g.dilation_h, dw = s * g.dilation_w;
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const int ih = st.ih0[i] + dh, iw = st.iw0[i] + dw;
            const bool ok = kk < crs && st.base[i] >= 0 && ih >= 0 && ih < g.h && iw >= 0 && iw < g.w;
            v[i] = ok ? __ldg(x + st.base[i] + (int64_t)c * hw + ih * (int)g.w + iw) : 0.0f;
        }
    }
    __device__ void store(const float (&acc)[4][4], int64_t m, int64_t j0, int) const {
#pragma unroll
        for (int b = 0; b < 4; ++b) {
            const int64_t j = j0 + b;
            if (j >= cols) continue;
            const int64_t ni = j / pq, pos = j - ni * pq;
#pragma unroll
            for (int a = 0; a < 4; ++a)
                if (m + a < g.k)
                    y[(ni * g.k + m + a) * pq + pos] = bias ? acc[a][b] + __ldg(bias + m + a) : acc[a][b];
        }
    }
};

// Backward-data. Rows: input channels c. Depth: (k, r, s). Columns: input positions (n, ih, iw). Element
// (k, r, s) of column (n, ih, iw) is dy at the output that tap (r, s) of it reads from (ih, iw), if one exists.
// kUnitStride (both strides 1, the usual case): that output is (ih + pad_h - r dil_h, iw + pad_w - s dil_w), found
// by a subtraction as the forward finds its input; any other stride needs output_from_input's division and
// divisibility test per element, which made this gather cost more instructions than the slice's multiply-adds. The
// same dy values land in the same places either way, so both give the same bits.
template <bool kUnitStride>
struct BackwardData {
    Geometry g;
    const float* __restrict__ dy;
    const float* __restrict__ w;
    float* __restrict__ dx;
    int crs, rs, hw, pq, krs;
    int64_t cols;  // n h w

    struct Cols {
        int64_t base[4];  // dy offset of the column's image, or -1 past the last column
        int ih[4], iw[4];  // the column's input position; with kUnitStride, plus the padding
    };
    __device__ void range(int64_t& begin, int64_t& end) const { begin = 0, end = krs; }
    __device__ void setup(Cols& st, int tid, int64_t n0) const {
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const int64_t j = n0 + (tid % 16) * 4 + i;
            st.base[i] = -1;
            st.ih[i] = st.iw[i] = 0;
            if (j < cols) {
                const int64_t ni = j / hw;
                const int pos = (int)(j - ni * hw);
                st.base[i] = ni * g.k * pq;
                st.ih[i] = pos / (int)g.w;
                st.iw[i] = pos - st.ih[i] * (int)g.w;
                if (kUnitStride) st.ih[i] += (int)g.pad_h, st.iw[i] += (int)g.pad_w;
            }
        }
    }
    __device__ void load_a(float (&v)[4], int tid, int64_t m0, int64_t k0) const {
        const int64_t c = m0 + tid / 4;
        int kk = (int)k0 + (tid % 4) * 4;
        int k = kk / rs, t = kk - k * rs;  // walk (k, tap) without dividing again
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            v[i] = (c < g.c && kk + i < krs) ? __ldg(w + (int64_t)k * crs + c * rs + t) : 0.0f;
            if (++t == rs) t = 0, ++k;
        }
    }
    __device__ void load_b(float (&v)[4], const Cols& st, int tid, int64_t k0) const {
        const int kk = (int)k0 + tid / 16;
        const int k = kk / rs, rem = kk - k * rs, r = rem / (int)g.s, s = rem - r * (int)g.s;
        if (kUnitStride) {
            const int dh = r * g.dilation_h, dw = s * g.dilation_w;
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                const int oh = st.ih[i] - dh, ow = st.iw[i] - dw;
                const bool ok = kk < krs && st.base[i] >= 0 && oh >= 0 && oh < g.p && ow >= 0 && ow < g.q;
                v[i] = ok ? __ldg(dy + st.base[i] + (int64_t)k * pq + oh * (int)g.q + ow) : 0.0f;
            }
            return;
        }
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            v[i] = 0.0f;
            if (kk >= krs || st.base[i] < 0) continue;
            const int oh = conv::output_from_input<int>(st.ih[i], r, (int)g.p, g.stride_h, g.pad_h, g.dilation_h);
            const int ow = conv::output_from_input<int>(st.iw[i], s, (int)g.q, g.stride_w, g.pad_w, g.dilation_w);
            if (oh >= 0 && ow >= 0) v[i] = __ldg(dy + st.base[i] + (int64_t)k * pq + oh * (int)g.q + ow);
        }
    }
    __device__ void store(const float (&acc)[4][4], int64_t c, int64_t j0, int) const {
#pragma unroll
        for (int b = 0; b < 4; ++b) {
            const int64_t j = j0 + b;
            if (j >= cols) continue;
            const int64_t ni = j / hw, pos = j - ni * hw;
#pragma unroll
            for (int a = 0; a < 4; ++a)
                if (c + a < g.c) dx[(ni * g.c + c + a) * hw + pos] = acc[a][b];
        }
    }
};

// Backward-weight. Rows: filters k. Depth: output positions (n, oh, ow), split into `chunk`-long ranges over
// blockIdx.z. Columns: taps (c, r, s).
struct BackwardWeight {
    Geometry g;
    const float* __restrict__ x;
    const float* __restrict__ dy;
    float* __restrict__ dw;
    int crs, rs, hw, pq;
    int64_t npq;    // n p q: the depth
    int64_t chunk;     // depth per split, a multiple of kBK
    float* partials;   // more than one split: split z stores to partials + z * k * crs instead of dw

    struct Cols {
        int64_t coff[4];  // c * h * w of the column's tap, or -1 past the last tap
        int dh[4], dw[4];
    };
    __device__ void setup(Cols& st, int tid, int64_t n0) const {
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const int64_t j = n0 + (tid % 16) * 4 + i;
            st.coff[i] = -1;
            st.dh[i] = st.dw[i] = 0;
            if (j < crs) {
                const int t = (int)j, c = t / rs, rem = t - c * rs, r = rem / (int)g.s, s = rem - r * (int)g.s;
                st.coff[i] = (int64_t)c * hw;
                st.dh[i] = r * g.dilation_h;
                st.dw[i] = s * g.dilation_w;
            }
        }
    }
    __device__ void load_a(float (&v)[4], int tid, int64_t m0, int64_t k0) const {
        const int64_t k = m0 + tid / 4;
        const int64_t kk = k0 + (tid % 4) * 4;
        int64_t ni = kk / pq;
        int pos = (int)(kk - ni * pq);
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            v[i] = (k < g.k && kk + i < npq) ? __ldg(dy + (ni * g.k + k) * pq + pos) : 0.0f;
            if (++pos == pq) pos = 0, ++ni;
        }
    }
    __device__ void load_b(float (&v)[4], const Cols& st, int tid, int64_t k0) const {
        const int64_t kk = k0 + tid / 16;
        const int64_t ni = kk / pq;
        const int pos = (int)(kk - ni * pq), oh = pos / (int)g.q, ow = pos - oh * (int)g.q;
        const int ih0 = (int)conv::input_index(oh, 0, g.stride_h, g.pad_h, g.dilation_h);
        const int iw0 = (int)conv::input_index(ow, 0, g.stride_w, g.pad_w, g.dilation_w);
        const float* xn = x + ni * g.c * hw;
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const int ih = ih0 + st.dh[i], iw = iw0 + st.dw[i];
            const bool ok = kk < npq && st.coff[i] >= 0 && ih >= 0 && ih < g.h && iw >= 0 && iw < g.w;
            v[i] = ok ? __ldg(xn + st.coff[i] + ih * (int)g.w + iw) : 0.0f;
        }
    }
    __device__ void store(const float (&acc)[4][4], int64_t k, int64_t t0, int) const {
#pragma unroll
        for (int a = 0; a < 4; ++a) {
            if (k + a >= g.k) continue;
#pragma unroll
            for (int b = 0; b < 4; ++b) {
                if (t0 + b >= crs) continue;
                float* out = partials ? partials + (int64_t)blockIdx.z * g.k * crs : dw;
                out[(k + a) * crs + t0 + b] = acc[a][b];
            }
        }
    }
    __device__ void range(int64_t& begin, int64_t& end) const {
        begin = blockIdx.z * chunk;
        end = min(npq, begin + chunk);
    }
};

// The implicit GEMM: block (blockIdx.x, blockIdx.y) computes columns [64 x, 64 x + 64) and rows [64 y', 64 y' + 64),
// y' = row_tile0 + y, of problem P over its depth range; P supplies the gathers and the store. A tile's result depends
// on y' alone, so a launch per 65535 row tiles (the grid's y limit) gives the bits of one launch. Two blocks per SM in
// the launch bounds: left uncapped, ptxas squeezed backward-data into 64 registers and spilled; 128 leaves the index
// math room.
template <class P>
__global__ void __launch_bounds__(kThreads, 2) conv_gemm_kernel(const P p, int64_t row_tile0) {
    __shared__ __align__(16) float as[2][kBK][kBM + kPad];  // A slice, depth-major: as[k][m]
    __shared__ __align__(16) float bs[2][kBK][kBN + kPad];  // B slice, depth-major: bs[k][n]
    const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
    const int64_t m0 = (row_tile0 + blockIdx.y) * kBM, n0 = (int64_t)blockIdx.x * kBN;

    typename P::Cols cols;
    p.setup(cols, tid, n0);
    int64_t k_begin, k_end;  // this block's depth range: all of it, or one split of backward-weight's
    p.range(k_begin, k_end);

    float acc[4][4];
#pragma unroll
    for (int a = 0; a < 4; ++a)
#pragma unroll
        for (int b = 0; b < 4; ++b) acc[a][b] = 0.0f;

    float va[4], vb[4];
    const int a_row = tid / 4, a_k = (tid % 4) * 4, b_k = tid / 16, b_col = (tid % 16) * 4;
    if (k_begin < k_end) {
        p.load_a(va, tid, m0, k_begin);
        p.load_b(vb, cols, tid, k_begin);
#pragma unroll
        for (int i = 0; i < 4; ++i) as[0][a_k + i][a_row] = va[i];
        *reinterpret_cast<float4*>(&bs[0][b_k][b_col]) = make_float4(vb[0], vb[1], vb[2], vb[3]);
        __syncthreads();

        int buf = 0;
        for (int64_t k0 = k_begin; k0 < k_end; k0 += kBK) {
            const bool more = k0 + kBK < k_end;
            if (more) {  // the next slice's global loads overlap this slice's arithmetic
                p.load_a(va, tid, m0, k0 + kBK);
                p.load_b(vb, cols, tid, k0 + kBK);
            }
#pragma unroll
            for (int k = 0; k < kBK; ++k) {
                const float4 a4 = *reinterpret_cast<const float4*>(&as[buf][k][ty * 4]);
                const float4 b4 = *reinterpret_cast<const float4*>(&bs[buf][k][tx * 4]);
                const float a[4] = {a4.x, a4.y, a4.z, a4.w}, b[4] = {b4.x, b4.y, b4.z, b4.w};
#pragma unroll
                for (int i = 0; i < 4; ++i)
#pragma unroll
                    for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
            }
            if (more) {  // the other buffer: everyone finished reading it before the previous barrier
#pragma unroll
                for (int i = 0; i < 4; ++i) as[buf ^ 1][a_k + i][a_row] = va[i];
                *reinterpret_cast<float4*>(&bs[buf ^ 1][b_k][b_col]) = make_float4(vb[0], vb[1], vb[2], vb[3]);
            }
            __syncthreads();
            buf ^= 1;
        }
    }
    p.store(acc, m0 + ty * 4, n0 + tx * 4, tid);
}

// dbias[k] = sum over n and p q of dy (n, k, p q): one block per filter, a fixed-order tree (deterministic).
__global__ void __launch_bounds__(kThreads) bias_grad_kernel(const float* __restrict__ dy, float* __restrict__ db,
                                                             int64_t n, int64_t k, int64_t pq) {
    __shared__ float part[kThreads / 32];
    const int64_t f = blockIdx.x;
    float s = 0.0f;
    for (int64_t ni = 0; ni < n; ++ni) {
        const float* row = dy + (ni * k + f) * pq;
        for (int64_t i = threadIdx.x; i < pq; i += kThreads) s += __ldg(row + i);
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = s;
    __syncthreads();
    if (threadIdx.x == 0) {
        float t = 0.0f;
        for (int i = 0; i < kThreads / 32; ++i) t += part[i];
        db[f] = t;
    }
}

// dw[e] = sum over the splits z, in order, of partials[z * count + e]: the deterministic end of a split reduction.
__global__ void __launch_bounds__(kThreads) sum_partials_kernel(const float* __restrict__ partials,
                                                                float* __restrict__ dw, int64_t count, int64_t splits) {
    for (int64_t e = (int64_t)blockIdx.x * kThreads + threadIdx.x; e < count; e += (int64_t)gridDim.x * kThreads) {
        float s = 0.0f;
        for (int64_t z = 0; z < splits; ++z) s += __ldg(partials + z * count + e);
        dw[e] = s;
    }
}

// ---- host launchers --------------------------------------------------------------------------------------------

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Row tiles past the grid's y limit (rows > 65535 * 64: k in forward and backward-weight, c in backward-data, which
// core allows and the CPU runs) go in further launches of up to 65535 row tiles each.
template <class P>
cudaError_t launch_gemm(cudaStream_t s, const P& p, int64_t rows, int64_t cols, int64_t splits) {
    constexpr int64_t kMaxRowTiles = 65535;
    const int64_t gx = ceil_div(cols, kBN), gy = ceil_div(rows, kBM);
    if (gx > 2147483647 || splits > 65535) return cudaErrorInvalidConfiguration;
    // One path on this backend, named all the same: the profiler's records then say which algorithm ran on either
    // backend (the CPU's may be Winograd instead).
    note_kernel_path("implicit_gemm");
    for (int64_t t0 = 0; t0 < gy; t0 += kMaxRowTiles) {
        const int64_t tiles = std::min(gy - t0, kMaxRowTiles);
        conv_gemm_kernel<P><<<dim3((unsigned)gx, (unsigned)tiles, (unsigned)splits), kThreads, 0, s>>>(p, t0);
        const cudaError_t e = cudaGetLastError();
        if (e != cudaSuccess) return e;
    }
    return cudaSuccess;
}

}  // namespace

cudaError_t conv2d_forward_f32(cudaStream_t s, const Geometry& g, const float* x, const float* w, const float* bias,
                               float* y) {
    if (conv::y_size(g) == 0) return cudaSuccess;
    Forward p{g, x, w, bias, y, 0, 0, 0, 0, 0};
    p.rs = (int)(g.r * g.s);
    p.crs = (int)(g.c * p.rs);
    p.hw = (int)(g.h * g.w);
    p.pq = (int)(g.p * g.q);
    p.cols = g.n * g.p * g.q;
    return launch_gemm(s, p, g.k, p.cols, 1);
}

cudaError_t conv2d_backward_data_f32(cudaStream_t s, const Geometry& g, const float* dy, const float* w, float* dx) {
    if (conv::x_size(g) == 0) return cudaSuccess;
    auto launch = [&](auto problem) {
        problem.rs = (int)(g.r * g.s);
        problem.crs = (int)(g.c * problem.rs);
        problem.krs = (int)(g.k * problem.rs);
        problem.hw = (int)(g.h * g.w);
        problem.pq = (int)(g.p * g.q);
        problem.cols = g.n * g.h * g.w;
        return launch_gemm(s, problem, g.c, problem.cols, 1);
    };
    // The unit-stride gather adds the padding and subtracts tap offsets in int: only where those stay far from overflow
    // (kiln.h allows paddings and dilations up to INT32_MAX; output_from_input copes with those).
    constexpr int64_t kIntRoom = INT32_MAX / 2;
    const bool small = g.h + g.pad_h < kIntRoom && g.w + g.pad_w < kIntRoom &&
                       (g.r - 1) * (int64_t)g.dilation_h < kIntRoom && (g.s - 1) * (int64_t)g.dilation_w < kIntRoom;
    if (g.stride_h == 1 && g.stride_w == 1 && small) return launch(BackwardData<true>{g, dy, w, dx, 0, 0, 0, 0, 0, 0});
    return launch(BackwardData<false>{g, dy, w, dx, 0, 0, 0, 0, 0, 0});
}

namespace {

// Splits of backward-weight's n p q reduction. dW has few tiles (64 x 576 is 9): split until a GPU of kSplitSms SMs
// has about 4 blocks per SM, keeping at least 32 slices (512 positions) per split so the partials' final sum stays a
// small part of the work. The split count decides the order of dW's sums, so it is a function of the shape alone
// (never of the device the call runs on): the same weights and data give the same dW bits on an A100 (108 SMs), an
// H200 (132) or a smaller GPU, where the extra splits only queue. 132 is the largest SM count of the GPUs built for.
constexpr int64_t kSplitSms = 132;

struct WeightSplit {
    int64_t chunk, splits;
};

WeightSplit weight_split(const Geometry& g) {
    const int64_t crs = g.c * g.r * g.s, npq = g.n * g.p * g.q;
    const int64_t tiles = ceil_div(g.k, kBM) * ceil_div(crs, kBN);
    const int64_t slices = ceil_div(npq, kBK);
    int64_t splits = std::max<int64_t>(1, std::min<int64_t>(ceil_div(4 * kSplitSms, tiles), slices / 32));
    splits = std::min<int64_t>(splits, 65535);
    WeightSplit ws;
    ws.chunk = ceil_div(slices, splits) * kBK;
    ws.splits = std::max<int64_t>(1, ceil_div(npq, ws.chunk));  // no empty split
    return ws;
}

}  // namespace

size_t conv2d_backward_weight_workspace_bytes(const Geometry& g) {
    if (g.n == 0 || conv::w_size(g) == 0) return 0;
    const WeightSplit ws = weight_split(g);
    return ws.splits > 1 ? (size_t)ws.splits * (size_t)conv::w_size(g) * sizeof(float) : 0;
}

cudaError_t conv2d_backward_weight_f32(cudaStream_t s, Scratch& scratch, const Geometry& g, const float* x,
                                       const float* dy, float* dw, float* dbias) {
    const int64_t crs = g.c * g.r * g.s;
    if (g.n == 0) {  // nothing to sum: the gradients are zero
        cudaError_t e = cudaMemsetAsync(dw, 0, (size_t)(g.k * crs) * sizeof(float), s);
        if (e == cudaSuccess && dbias) e = cudaMemsetAsync(dbias, 0, (size_t)g.k * sizeof(float), s);
        return e;
    }
    BackwardWeight p{g, x, dy, dw, 0, 0, 0, 0, 0, 0, nullptr};
    p.rs = (int)(g.r * g.s);
    p.crs = (int)crs;
    p.hw = (int)(g.h * g.w);
    p.pq = (int)(g.p * g.q);
    p.npq = g.n * g.p * g.q;
    const WeightSplit ws = weight_split(g);
    p.chunk = ws.chunk;
    float* workspace = nullptr;
    if (ws.splits > 1) {
        workspace = static_cast<float*>(scratch.get(conv2d_backward_weight_workspace_bytes(g)));
        if (!workspace) return cudaErrorInvalidValue;
        p.partials = workspace;
    }
    cudaError_t e = launch_gemm(s, p, g.k, crs, ws.splits);
    if (e == cudaSuccess && ws.splits > 1) {
        const int64_t count = g.k * crs;
        const unsigned blocks = (unsigned)std::min<int64_t>(ceil_div(count, kThreads), 4096);
        sum_partials_kernel<<<blocks, kThreads, 0, s>>>(workspace, dw, count, ws.splits);
        e = cudaGetLastError();
    }
    if (e != cudaSuccess || !dbias) return e;
    bias_grad_kernel<<<(unsigned)g.k, kThreads, 0, s>>>(dy, dbias, g.n, g.k, p.pq);
    return cudaGetLastError();
}

}  // namespace kiln::cuda

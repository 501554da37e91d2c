// Reductions and softmax on the GPU. Conventions: outputs are assigned, never accumulated. A row of a row-wise op
// (max, softmax, a sum over contiguous rows) belongs to one warp when it has at most 1024 columns, else to one block,
// except a lone row longer than a block's share (a whole tensor's sum), which is spread over the grid (grid_sum);
// softmax rows of up to 1024 columns are held in registers (x is read once), longer rows take one online-softmax pass
// for (max, sum) and a second pass to write. Every reduction combines in a fixed order (no atomics), so results are
// bitwise reproducible run to run. The math per element is kernels/common/softmax_math.h, shared with
// native/src/cpu/reduce.cpp.
#include <cstdint>

#include "common/launch.h"
#include "common/grid_sum.cuh"
#include "common/softmax_math.h"
#include "reduce.h"

namespace kiln::cuda {

namespace {

constexpr int64_t kWarpRowMaxCols = 1024;  // rows up to this long go to one warp (32 lanes x 32 registers)
constexpr int kRowBlock = 256;             // warp-per-row kernels: 8 rows per block
constexpr int kRowsPerBlock = kRowBlock / 32;
// A block that owns one row: about 16 columns per thread, 128..1024 threads.
int block_threads_for(int64_t cols) {
    int t = 128;
    while (t < 1024 && (int64_t)t * 16 < cols) t *= 2;
    return t;
}

// The 32-bit index path is taken only when index + grid stride cannot wrap.

struct TakeA {
    __device__ float operator()(float a, float) const { return a; }
};
struct SquareA {
    __device__ float operator()(float a, float) const { return kiln_fmul(a, a); }
};

// ---- sum over an axis --------------------------------------------------------------------------------------------

// inner == 1: x is (rows, len) contiguous, one warp or block per row.
template <bool kWarp>
__global__ void __launch_bounds__(1024) sum_rows_kernel(const float* __restrict__ x, float* __restrict__ y,
                                                        int64_t rows, int64_t len, float scale) {
    __shared__ float smem[32];
    using Team = RowTeam<kWarp>;
    for (int64_t r = Team::first_row(); r < rows; r += Team::row_stride()) {
        const float part = thread_partial(x + r * len, nullptr, len, Team::rank(), Team::size(), TakeA{});
        const float total = Team::reduce(part, SumOp{}, 0.0f, smem);
        if (Team::rank() == 0) y[r] = kiln_fmul(total, scale);
    }
}

// 1 < inner < 32: one block per slab x[o] (len * inner contiguous floats), read as a flat coalesced stream. The
// thread stride `span` is a multiple of inner, so thread t only ever sees column t % inner; the columns' partials
// are then added in thread order.
__global__ void __launch_bounds__(1024) sum_slab_kernel(const float* __restrict__ x, float* __restrict__ y,
                                                        int64_t outer, int64_t len, int inner, float scale) {
    __shared__ float part[1024];
    const int t = threadIdx.x;
    const int span = (int)blockDim.x - (int)blockDim.x % inner;
    const int64_t slab = len * inner;
    for (int64_t o = blockIdx.x; o < outer; o += gridDim.x) {
        const float* xs = x + o * slab;
        float a0 = 0.0f, a1 = 0.0f;
        if (t < span) {
            int64_t k = t;
            for (; k + span < slab; k += 2 * (int64_t)span) {
                a0 = kiln_fadd(a0, xs[k]);
                a1 = kiln_fadd(a1, xs[k + span]);
            }
            if (k < slab) a0 = kiln_fadd(a0, xs[k]);
        }
        __syncthreads();  // the previous slab's readers of part[] are done
        part[t] = kiln_fadd(a0, a1);
        __syncthreads();
        if (t < inner) {
            float acc = 0.0f;
            for (int j = t; j < span; j += inner) acc = kiln_fadd(acc, part[j]);
            y[o * inner + t] = kiln_fmul(acc, scale);
        }
    }
}

// inner >= 32: a block (32, by) owns 32 adjacent columns of one o; each warp row reads 128 contiguous bytes per l,
// and the by partials per column are added in order.
__global__ void __launch_bounds__(1024) sum_cols_kernel(const float* __restrict__ x, float* __restrict__ y,
                                                        int64_t outer, int64_t len, int64_t inner, float scale) {
    __shared__ float part[32][33];
    const int tx = threadIdx.x, ty = threadIdx.y, by = blockDim.y;
    const int64_t col_tiles = (inner + 31) / 32;
    const int64_t tiles = outer * col_tiles;
    for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        const int64_t o = tile / col_tiles;
        const int64_t i = (tile - o * col_tiles) * 32 + tx;
        // Four chains, so four loads are in flight per thread: with two, a (1, 4096, 4096) sum's 128 blocks kept too
        // few bytes in flight (46% of an H200's copy bandwidth).
        float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
        if (i < inner) {
            const float* xc = x + o * len * inner + i;
            int64_t l = ty;
            for (; l + 3 * by < len; l += 4 * (int64_t)by) {
                const float v0 = xc[l * inner], v1 = xc[(l + by) * inner];
                const float v2 = xc[(l + 2 * by) * inner], v3 = xc[(l + 3 * by) * inner];
                a0 = kiln_fadd(a0, v0);
                a1 = kiln_fadd(a1, v1);
                a2 = kiln_fadd(a2, v2);
                a3 = kiln_fadd(a3, v3);
            }
            for (; l < len; l += by) a0 = kiln_fadd(a0, xc[l * inner]);
        }
        __syncthreads();
        part[ty][tx] = kiln_fadd(kiln_fadd(a0, a1), kiln_fadd(a2, a3));
        __syncthreads();
        if (ty == 0 && i < inner) {
            float acc = 0.0f;
            for (int j = 0; j < by; ++j) acc = kiln_fadd(acc, part[j][tx]);
            y[o * inner + i] = kiln_fmul(acc, scale);
        }
    }
}

// dx[o, l, i] = scale * dy[o, i]; flat over dx.
template <typename Index>
__global__ void sum_backward_kernel(const float* __restrict__ dy, float* __restrict__ dx, Index total, Index len,
                                    Index inner, float scale) {
    for (Index k = flat_thread_index<Index>(); k < total; k += flat_thread_stride<Index>()) {
        const Index row = k / inner;  // o * len + l
        const Index i = k - row * inner;
        dx[k] = kiln_fmul(scale, dy[(row / len) * inner + i]);
    }
}

// ---- max over the last dimension -----------------------------------------------------------------------------------

template <bool kWarp>
__global__ void __launch_bounds__(1024) max_lastdim_kernel(const float* __restrict__ x, float* __restrict__ y,
                                                           int32_t* __restrict__ index, int64_t rows, int64_t cols) {
    __shared__ ArgMax smem[32];
    using Team = RowTeam<kWarp>;
    for (int64_t r = Team::first_row(); r < rows; r += Team::row_stride()) {
        const float* xr = x + r * cols;
        ArgMax best = argmax_empty();
        for_each_loaded(xr, Team::rank(), cols, Team::size(), [&](int64_t c, float v) {
            const ArgMax cand{v, (int32_t)c};
            if (argmax_beats(cand, best)) best = cand;
        });
        best = Team::reduce(best, ArgMaxOp{}, argmax_empty(), smem);
        if (Team::rank() == 0) {
            y[r] = best.v;
            index[r] = best.i;
        }
    }
}

template <typename Index>
__global__ void max_backward_kernel(const float* __restrict__ dy, const int32_t* __restrict__ index,
                                    float* __restrict__ dx, Index total, Index cols) {
    for (Index k = flat_thread_index<Index>(); k < total; k += flat_thread_stride<Index>()) {
        const Index r = k / cols;
        const Index c = k - r * cols;
        dx[k] = (int64_t)c == (int64_t)index[r] ? dy[r] : 0.0f;
    }
}

// ---- sum of squares ------------------------------------------------------------------------------------------------

// ---- softmax -------------------------------------------------------------------------------------------------------

// A warp per row, the row in registers: lane holds columns lane + 32k for k < VPT (cols <= 32 * VPT). Two-pass form
// (exact max, then sum), the same as the CPU's, for one read of x.
template <int VPT>
__global__ void __launch_bounds__(kRowBlock) softmax_warp_kernel(const float* __restrict__ x, float* __restrict__ y,
                                                                 int64_t rows, int cols, bool log) {
    const int lane = threadIdx.x & 31;
    for (int64_t r = RowTeam<true>::first_row(); r < rows; r += RowTeam<true>::row_stride()) {
        const float* xr = x + r * cols;
        float v[VPT];
        float m = kiln_neg_inf();
#pragma unroll
        for (int k = 0; k < VPT; ++k) {
            const int c = lane + 32 * k;
            v[k] = c < cols ? xr[c] : kiln_neg_inf();
            m = v[k] > m ? v[k] : m;  // ignores NaN, as the CPU's max
        }
        m = warp_reduce(m, MaxOp{});
        float s = 0.0f;
#pragma unroll
        for (int k = 0; k < VPT; ++k) {
            if (lane + 32 * k < cols) {
                const float e = kiln_exp_f32(kiln_fadd(v[k], -m));
                s = kiln_fadd(s, e);
                if (!log) v[k] = e;
            }
        }
        s = warp_reduce(s, SumOp{});
        const float log_s = log ? kiln_log_f32(s) : 0.0f;
        float* yr = y + r * cols;
#pragma unroll
        for (int k = 0; k < VPT; ++k) {
            const int c = lane + 32 * k;
            if (c < cols) yr[c] = log ? log_softmax_out(v[k], m, log_s) : softmax_out(v[k], s);
        }
    }
}

// A block per row (cols > 1024): an online pass for (max, sum), then a pass that writes.
__global__ void __launch_bounds__(1024) softmax_block_kernel(const float* __restrict__ x, float* __restrict__ y,
                                                             int64_t rows, int64_t cols, bool log) {
    __shared__ SoftmaxState smem[32];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + r * cols;
        SoftmaxState st = softmax_state_empty();
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) softmax_update(st, xr[c]);
        st = block_reduce(st, SoftmaxMergeOp{}, softmax_state_empty(), smem);
        const float log_s = log ? kiln_log_f32(st.s) : 0.0f;
        float* yr = y + r * cols;
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
            const float xv = xr[c];
            yr[c] = log ? log_softmax_out(xv, st.m, log_s) : softmax_out(kiln_exp_f32(kiln_fadd(xv, -st.m)), st.s);
        }
    }
}

// Backward, a warp per row with y and dy in registers: acc = sum dy*y (softmax) or sum dy (log_softmax).
template <int VPT>
__global__ void __launch_bounds__(kRowBlock) softmax_backward_warp_kernel(const float* __restrict__ y,
                                                                          const float* __restrict__ dy,
                                                                          float* __restrict__ dx, int64_t rows,
                                                                          int cols, bool log) {
    const int lane = threadIdx.x & 31;
    for (int64_t r = RowTeam<true>::first_row(); r < rows; r += RowTeam<true>::row_stride()) {
        const float* yr = y + r * cols;
        const float* gr = dy + r * cols;
        float yv[VPT], gv[VPT];
        float acc = 0.0f;
#pragma unroll
        for (int k = 0; k < VPT; ++k) {
            const int c = lane + 32 * k;
            yv[k] = c < cols ? yr[c] : 0.0f;
            gv[k] = c < cols ? gr[c] : 0.0f;
            acc = kiln_fadd(acc, log ? gv[k] : kiln_fmul(gv[k], yv[k]));
        }
        acc = warp_reduce(acc, SumOp{});
        float* dr = dx + r * cols;
#pragma unroll
        for (int k = 0; k < VPT; ++k) {
            const int c = lane + 32 * k;
            if (c < cols) dr[c] = log ? log_softmax_grad(yv[k], gv[k], acc) : softmax_grad(yv[k], gv[k], acc);
        }
    }
}

__global__ void __launch_bounds__(1024) softmax_backward_block_kernel(const float* __restrict__ y,
                                                                      const float* __restrict__ dy,
                                                                      float* __restrict__ dx, int64_t rows,
                                                                      int64_t cols, bool log) {
    __shared__ float smem[32];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* yr = y + r * cols;
        const float* gr = dy + r * cols;
        float acc = 0.0f;
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
            acc = kiln_fadd(acc, log ? gr[c] : kiln_fmul(gr[c], yr[c]));
        acc = block_reduce(acc, SumOp{}, 0.0f, smem);
        float* dr = dx + r * cols;
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
            dr[c] = log ? log_softmax_grad(yr[c], gr[c], acc) : softmax_grad(yr[c], gr[c], acc);
    }
}

// Picks the register-row kernel instance for cols <= 1024: VPT = the power of two covering cols / 32.
template <template <int> class Launch, typename... Args>
void with_vpt(int64_t cols, Args... args) {
    if (cols <= 32) Launch<1>::run(args...);
    else if (cols <= 64) Launch<2>::run(args...);
    else if (cols <= 128) Launch<4>::run(args...);
    else if (cols <= 256) Launch<8>::run(args...);
    else if (cols <= 512) Launch<16>::run(args...);
    else Launch<32>::run(args...);
}

template <int VPT>
struct SoftmaxWarp {
    static void run(cudaStream_t s, const float* x, float* y, int64_t rows, int64_t cols, bool log) {
        softmax_warp_kernel<VPT><<<grid_1d(rows, kRowsPerBlock), kRowBlock, 0, s>>>(x, y, rows, (int)cols, log);
    }
};

template <int VPT>
struct SoftmaxBackwardWarp {
    static void run(cudaStream_t s, const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool log) {
        softmax_backward_warp_kernel<VPT>
            <<<grid_1d(rows, kRowsPerBlock), kRowBlock, 0, s>>>(y, dy, dx, rows, (int)cols, log);
    }
};

}  // namespace

cudaError_t reduce_sum_f32(cudaStream_t s, Scratch& scratch, const float* x, float* y, int64_t outer, int64_t len,
                           int64_t inner, float scale) {
    if (outer == 0 || inner == 0) return cudaSuccess;
    if (inner == 1) {
        // One row longer than a block's share (a whole tensor's sum): every SM, not one block.
        if (outer == 1 && len > kGridSumElemsPerBlock)
            return grid_sum(s, scratch, x, nullptr, len, TakeA{}, SumScaled{scale}, y);
        if (len <= kWarpRowMaxCols)
            sum_rows_kernel<true><<<grid_1d(outer, kRowsPerBlock), kRowBlock, 0, s>>>(x, y, outer, len, scale);
        else
            sum_rows_kernel<false><<<grid_1d(outer, 1), block_threads_for(len), 0, s>>>(x, y, outer, len, scale);
    } else if (inner < 32) {
        // A slab is len * inner contiguous floats: size the block to it, as for a row.
        sum_slab_kernel<<<grid_1d(outer, 1), block_threads_for(len * inner), 0, s>>>(x, y, outer, len, (int)inner,
                                                                                     scale);
    } else {
        const int64_t tiles = outer * ((inner + 31) / 32);
        // Few tiles and long columns: more threads per column to keep the SMs busy; short columns: fewer idle rows.
        const int by = (len >= 256 && tiles < 1024) ? 32 : (len >= 8 ? 8 : (len < 1 ? 1 : (int)len));
        sum_cols_kernel<<<grid_1d(tiles, 1), dim3(32, by), 0, s>>>(x, y, outer, len, inner, scale);
    }
    return cudaGetLastError();
}

cudaError_t reduce_sum_backward_f32(cudaStream_t s, const float* dy, float* dx, int64_t outer, int64_t len,
                                    int64_t inner, float scale) {
    const int64_t total = outer * len * inner;
    if (total == 0) return cudaSuccess;
    if (fits_u32(total))
        sum_backward_kernel<uint32_t><<<grid_1d(total, 256), 256, 0, s>>>(dy, dx, (uint32_t)total, (uint32_t)len,
                                                                          (uint32_t)inner, scale);
    else
        sum_backward_kernel<uint64_t><<<grid_1d(total, 256), 256, 0, s>>>(dy, dx, (uint64_t)total, (uint64_t)len,
                                                                          (uint64_t)inner, scale);
    return cudaGetLastError();
}

cudaError_t max_lastdim_f32(cudaStream_t s, const float* x, float* y, int32_t* index, int64_t rows, int64_t cols) {
    if (rows == 0) return cudaSuccess;
    if (cols <= kWarpRowMaxCols)
        max_lastdim_kernel<true><<<grid_1d(rows, kRowsPerBlock), kRowBlock, 0, s>>>(x, y, index, rows, cols);
    else
        max_lastdim_kernel<false><<<grid_1d(rows, 1), block_threads_for(cols), 0, s>>>(x, y, index, rows, cols);
    return cudaGetLastError();
}

cudaError_t max_lastdim_backward_f32(cudaStream_t s, const float* dy, const int32_t* index, float* dx, int64_t rows,
                                     int64_t cols) {
    const int64_t total = rows * cols;
    if (total == 0) return cudaSuccess;
    if (fits_u32(total))
        max_backward_kernel<uint32_t><<<grid_1d(total, 256), 256, 0, s>>>(dy, index, dx, (uint32_t)total,
                                                                          (uint32_t)cols);
    else
        max_backward_kernel<uint64_t><<<grid_1d(total, 256), 256, 0, s>>>(dy, index, dx, (uint64_t)total,
                                                                          (uint64_t)cols);
    return cudaGetLastError();
}

cudaError_t sum_squares_f32(cudaStream_t s, Scratch& scratch, const float* x, int64_t n, float* out) {
    return grid_sum(s, scratch, x, nullptr, n, SquareA{}, SumAsIs{}, out);  // n == 0 too: out must become 0
}

cudaError_t softmax_f32(cudaStream_t s, const float* x, float* y, int64_t rows, int64_t cols, bool log) {
    if (rows == 0) return cudaSuccess;
    if (cols <= kWarpRowMaxCols) with_vpt<SoftmaxWarp>(cols, s, x, y, rows, cols, log);
    else softmax_block_kernel<<<grid_1d(rows, 1), block_threads_for(cols), 0, s>>>(x, y, rows, cols, log);
    return cudaGetLastError();
}

cudaError_t softmax_backward_f32(cudaStream_t s, const float* y, const float* dy, float* dx, int64_t rows,
                                 int64_t cols, bool log) {
    if (rows == 0) return cudaSuccess;
    if (cols <= kWarpRowMaxCols) {
        with_vpt<SoftmaxBackwardWarp>(cols, s, y, dy, dx, rows, cols, log);
    } else {
        softmax_backward_block_kernel<<<grid_1d(rows, 1), block_threads_for(cols), 0, s>>>(y, dy, dx, rows, cols,
                                                                                           log);
    }
    return cudaGetLastError();
}

}  // namespace kiln::cuda

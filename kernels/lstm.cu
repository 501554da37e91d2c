// LSTM kernels: the fused cell forward and backward of one step, the hprev[:, 0] fill, the bias-gradient column sum,
// and the persistent forward that runs every step in one cooperative launch; plus their host launchers, which string
// them together with the GEMMs of kernels/gemm.h. Conventions: batch-first (n, t, .) tensors, gates in PyTorch order
// i, f, g, o at column k*h + j of a (., 4h) row; forward and backward assign their outputs; gate math is
// kernels/common/lstm_cell.h, shared with native/src/cpu/lstm.cpp. The reserve layout is kiln::lstm::reserve_layout
// (the CPU's, exactly).
#include <climits>
#include <cstdlib>

#include "common/launch.h"
#include "common/kernel_path.h"
#include "common/lstm_cell.h"
#include "gemm.h"
#include "lstm.h"

namespace kiln::cuda {

namespace {

constexpr int kBlock = 256;

// ---- per-step path: fused cell kernels ---------------------------------------------------------------------------

// One step of the forward. g is the step's (n, 4h) slice (row stride ldg) holding x w_ih^T + h w_hh^T; the kernel
// adds the bias and writes the activated gates back in place. Rows of every (n, h) operand are `ld` apart.
struct FwdStep {
    float* g;
    int64_t ldg;
    const float* bias;
    const float* c_prev;  // NULL: zeros (c0 absent at step 0)
    int64_t ld_cp;
    float* c;  // c_t: the reserve's cell slice, or c_n itself in inference (then c_prev == c after step 0)
    int64_t ld_c;
    float* y;  // y_t, row stride ld_y
    int64_t ld_y;
    float* hnext;  // the reserve's hprev slice of step t+1 (row stride ld_y), or NULL
    float* h_n;    // last step only: h_n (n, h); else NULL
    float* c_n;    // last step only, when c is not already c_n; else NULL
    int64_t n, h;
};

// No pointer is __restrict__: in inference c_prev and c are the same buffer (read, then written, by one thread).
__global__ void __launch_bounds__(kBlock) cell_forward_kernel(FwdStep p) {
    const int64_t cells = p.n * p.h;
    for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < cells; k += (int64_t)gridDim.x * blockDim.x) {
        const int64_t b = k / p.h, j = k - b * p.h;
        float* g = p.g + b * p.ldg + j;
        const float* bias = p.bias + j;
        const float cp = p.c_prev ? p.c_prev[b * p.ld_cp + j] : 0.0f;
        const lstm::CellOut r = lstm::cell_forward(kiln_fadd(g[0], bias[0]), kiln_fadd(g[p.h], bias[p.h]),
                                                   kiln_fadd(g[2 * p.h], bias[2 * p.h]),
                                                   kiln_fadd(g[3 * p.h], bias[3 * p.h]), cp);
        g[0] = r.i;
        g[p.h] = r.f;
        g[2 * p.h] = r.g;
        g[3 * p.h] = r.o;
        p.c[b * p.ld_c + j] = r.c;
        p.y[b * p.ld_y + j] = r.h;
        if (p.hnext) p.hnext[b * p.ld_y + j] = r.h;
        if (p.h_n) p.h_n[k] = r.h;
        if (p.c_n) p.c_n[k] = r.c;
    }
}

// One step of the backward: g, c from the reserve (row strides ldg, ld), c_prev (NULL: zeros), dy_t; dh and dc are
// the gradients reaching h_t and c_t from step t+1 (NULL: zero; row stride h). Writes dg (the pre-activation
// gradients, layout of g) and dc_out = dc_{t-1} (row stride h; may be dc itself, element by element).
struct BwdStep {
    const float* g;
    int64_t ldg;
    const float* c;
    const float* c_prev;
    int64_t ld_cp;
    int64_t ld;  // row stride of c and dy: t*h
    const float* dy;
    const float* dh;
    const float* dc;
    float* dg;
    float* dc_out;
    int64_t n, h;
};

__global__ void __launch_bounds__(kBlock) cell_backward_kernel(BwdStep p) {
    const int64_t cells = p.n * p.h;
    for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < cells; k += (int64_t)gridDim.x * blockDim.x) {
        const int64_t b = k / p.h, j = k - b * p.h;
        const float* g = p.g + b * p.ldg + j;
        const float cp = p.c_prev ? p.c_prev[b * p.ld_cp + j] : 0.0f;
        const float dh = kiln_fadd(p.dy[b * p.ld + j], p.dh ? p.dh[k] : 0.0f);
        const lstm::CellGrad r =
            lstm::cell_backward(g[0], g[p.h], g[2 * p.h], g[3 * p.h], p.c[b * p.ld + j], cp, dh, p.dc ? p.dc[k] : 0.0f);
        float* dg = p.dg + b * p.ldg + j;
        dg[0] = r.di;
        dg[p.h] = r.df;
        dg[2 * p.h] = r.dg;
        dg[3 * p.h] = r.do_;
        p.dc_out[k] = r.dc_prev;
    }
}

// hprev[:, 0] (n, h), rows ldh apart, = h0 (n, h) or zeros. A kernel, not cudaMemcpy2D/cudaMemset2D: their pitch
// of t*h*4 bytes is refused beyond the device's cudaDevAttrMaxPitch (2^31 - 1), which long sequences reach.
__global__ void __launch_bounds__(kBlock) hprev_first_kernel(float* __restrict__ hprev, int64_t ldh,
                                                             const float* __restrict__ h0, int64_t n, int64_t h) {
    const int64_t cells = n * h;
    for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < cells; k += (int64_t)gridDim.x * blockDim.x) {
        const int64_t b = k / h, j = k - b * h;
        hprev[b * ldh + j] = h0 ? h0[k] : 0.0f;
    }
}

// out[c] = sum over rows of a[r, c] for a (rows, cols): 32 columns per block, 32 row lanes summed in shared memory,
// so the order (and the result) depends only on the shape.
__global__ void __launch_bounds__(1024) column_sum_kernel(const float* __restrict__ a, int64_t rows, int64_t cols,
                                                          float* __restrict__ out) {
    __shared__ float part[32][33];
    const int64_t col = (int64_t)blockIdx.x * 32 + threadIdx.x;
    float s = 0.0f;
    if (col < cols)
        for (int64_t r = threadIdx.y; r < rows; r += 32) s += a[r * cols + col];
    part[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && col < cols) {
        float total = 0.0f;
        for (int i = 0; i < 32; ++i) total += part[i][threadIdx.x];
        out[col] = total;
    }
}

// ---- persistent forward ------------------------------------------------------------------------------------------
//
// Block b owns hidden units [b*J, b*J + J) and all four gates of them: Q = 4J rows of w_hh, kept in shared memory
// (transposed, Ws[k][q] with q = gate*J + jj) for the whole sequence. Each step:
//   A. the block's n x Q recurrent dot products h_{t-1} Ws, in tasks of 32 rows (one per lane) by C columns taken
//      by the warps in turn; each is one chain over all of k (Ws reads are broadcasts, Hs is padded to an odd pitch
//      so the 32 lanes' rows fall in distinct banks) and lands in shared memory;
//   B. one thread per (row, unit) adds x w_ih^T (from the all-steps GEMM) and the bias, runs the fused cell (c stays
//      in shared memory) and writes y_t, the reserve and, at the end, h_n and c_n;
//   C. grid barrier (every block's slice of h_t is out), then every block stages all of h_t into Hs, read past L1.
// The barrier is a monotonically increasing counter (zeroed on the stream before the launch): block arrival s+1 of
// all blocks is reached when it hits (s+1) * gridDim.x. Co-residency of all blocks, which a spinning barrier
// needs, is guaranteed by cudaLaunchCooperativeKernel (it refuses a grid that cannot be resident at once).
//
// Whether this kernel or the per-step path runs depends on the device (SMs, shared memory, occupancy, a refused
// cooperative launch), so every pre-activation repeats the per-step path's float operations in its order:
//   acc = 0.f, then acc = fmaf(h_{s-1}[r, k], w_hh[gate*h + j, k], acc) for k = 0, ..., h-1
//     (gemm.cu multiply_slice: `acc[i][j] = fmaf(a[i], b[j], acc[i][j])`, k ascending in every tile);
//   g = fmaf(beta, g, alpha * acc) with alpha = beta = 1, i.e. g + acc rounded once: kiln_fadd(g, acc)
//     (gemm.cu store_tile: `o[j] = alpha * acc[i][4 * g + j]`, then `fmaf(beta, old.x, o[0])` or
//     `fmaf(beta, row[col + j], o[j])`), where g holds x w_ih^T;
//   pre = kiln_fadd(g, bias[gate*h + j])  (cell_forward_kernel: `kiln_fadd(g[0], bias[0])`);
// and at step 0 without h0 there is no recurrent GEMM (hp == nullptr): pre = kiln_fadd(g, bias). J, C and the
// task split only choose which thread runs a chain, never its order.

constexpr int kPersistThreads = 256;
constexpr int kPersistWarps = kPersistThreads / 32;
constexpr int kPersistMaxN = 64;   // row chunks of 32: 1 or 2
constexpr int kPersistMaxH = 256;

// Columns per phase-A task: J/2 gives Q/C = 8 tasks per row chunk, one per warp when n <= 32 (4 when J = 1).
template <int J>
constexpr int persist_cols() { return J >= 2 ? J / 2 : 1; }

struct PersistArgs {
    const float* h0;  // (n, h) or NULL
    const float* c0;  // (n, h) or NULL
    const float* w_hh;
    const float* bias;
    float* gates;  // (n, t, 4h): x w_ih^T in, activated gates out (training) or left as is (inference scratch)
    float* cell;   // reserve (n, t, h) or NULL (inference)
    float* hprev;  // reserve (n, t, h) or NULL
    float* y;
    float* h_n;
    float* c_n;
    unsigned* counter;
    int n, t, h, pitch;  // pitch: row stride of Hs, odd
};

// Bytes of shared memory the persistent kernel with J units per block needs for (n, h): Ws, Hs, Acc, Cs below.
__host__ __device__ inline int persist_pitch(int h) { return h | 1; }
inline size_t persist_smem_bytes(int J, int n, int h) {
    const size_t Q = 4 * (size_t)J;
    return sizeof(float) * (h * Q + (size_t)n * persist_pitch(h) + (size_t)n * (Q + 1) + (size_t)n * J);
}

// w = the C floats at p. p is Ws + k*Q + q0 with q0 a multiple of C and Q of 4, so C = 4 or 2 is one aligned load.
template <int C>
__device__ __forceinline__ void load_cols(const float* p, float (&w)[C]) {
    if constexpr (C == 4) {
        const float4 v = *reinterpret_cast<const float4*>(p);
        w[0] = v.x, w[1] = v.y, w[2] = v.z, w[3] = v.w;
    } else if constexpr (C == 2) {
        const float2 v = *reinterpret_cast<const float2*>(p);
        w[0] = v.x, w[1] = v.y;
    } else {
        static_assert(C == 1, "C is 1, 2 or 4");
        w[0] = p[0];
    }
}

__device__ __forceinline__ unsigned load_acquire(const unsigned* p) {
#if defined(KILN_CUDA_EMU)  // native/emu: the same acquire load on the CPU
    return kiln_emu::ptx::ld_acquire(p);
#else
    unsigned v;
    asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
    return v;
#endif
}

// All blocks wait until `target` arrivals (this one included). Thread 0's fence is cumulative over the block's
// writes ordered before it by __syncthreads, so they are visible to every block that passes the barrier.
__device__ __forceinline__ void grid_barrier(unsigned* counter, unsigned target) {
    __syncthreads();
    if (threadIdx.x == 0) {
        __threadfence();
        atomicAdd(counter, 1u);
        while (load_acquire(counter) < target) __nanosleep(32);
        __threadfence();
    }
    __syncthreads();
}

template <int J>
__global__ void __launch_bounds__(kPersistThreads) lstm_persistent_forward_kernel(PersistArgs a) {
    constexpr int Q = 4 * J, C = persist_cols<J>(), NG = Q / C;
    constexpr int QP = Q + 1;  // odd row pitch of Acc: a warp's 32 rows store to distinct banks
    extern __shared__ float4 smem4[];
    const int n = a.n, h = a.h, pitch = a.pitch, RC = (n + 31) / 32;
    const int64_t G = 4 * (int64_t)h, ldg = (int64_t)a.t * G, ldh = (int64_t)a.t * h;
    float* Ws = reinterpret_cast<float*>(smem4);  // [h][Q]
    float* Hs = Ws + h * Q;                       // [n][pitch]   h_{t-1}
    float* Acc = Hs + n * pitch;                  // [n][QP]      recurrent dot products of this step
    float* Cs = Acc + n * QP;                     // [n][J]       c_{t-1} of this block's units
    const int tid = threadIdx.x, j0 = blockIdx.x * J;

    for (int idx = tid; idx < Q * h; idx += kPersistThreads) {  // k fastest: coalesced reads of w_hh rows
        const int q = idx / h, k = idx - q * h, gate = q / J, j = j0 + (q - gate * J);
        Ws[k * Q + q] = j < h ? a.w_hh[((int64_t)gate * h + j) * h + k] : 0.0f;
    }
    for (int p = tid; p < n * J; p += kPersistThreads) {
        const int r = p / J, j = j0 + (p - r * J);
        Cs[p] = (j < h && a.c0) ? a.c0[(int64_t)r * h + j] : 0.0f;
        if (j < h && a.hprev) a.hprev[r * ldh + j] = a.h0 ? a.h0[(int64_t)r * h + j] : 0.0f;
    }
    for (int idx = tid; idx < n * h; idx += kPersistThreads) {
        const int r = idx / h, k = idx - r * h;
        Hs[r * pitch + k] = a.h0 ? a.h0[idx] : 0.0f;
    }
    __syncthreads();

    const int warp = tid / 32, lane = tid % 32;

    for (int s = 0; s < a.t; ++s) {
        const bool recur = s > 0 || a.h0 != nullptr;  // block-uniform
        // A: task = (row chunk, column group); row r = this lane's, columns [q0, q0 + C).
        if (recur) {
            for (int task = warp; task < RC * NG; task += kPersistWarps) {
                const int r = (task / NG) * 32 + lane, q0 = (task % NG) * C;
                if (r >= n) continue;
                float acc[C];
#pragma unroll
                for (int i = 0; i < C; ++i) acc[i] = 0.0f;
                const float* hrow = Hs + r * pitch;
                const float* wcol = Ws + q0;
#pragma unroll 4
                for (int k = 0; k < h; ++k) {
                    const float hv = hrow[k];
                    float w[C];
                    load_cols<C>(wcol + k * Q, w);
#pragma unroll
                    for (int i = 0; i < C; ++i) acc[i] = fmaf(hv, w[i], acc[i]);
                }
#pragma unroll
                for (int i = 0; i < C; ++i) Acc[r * QP + q0 + i] = acc[i];
            }
        }
        __syncthreads();

        // B: the fused cell of each (row, unit) of this block.
        const bool last = s == a.t - 1;
        for (int p = tid; p < n * J; p += kPersistThreads) {
            const int rr = p / J, jj = p - rr * J, j = j0 + jj;
            if (j >= h) continue;
            float* g = a.gates + rr * ldg + s * G + j;
            float pre[4];
#pragma unroll
            for (int gate = 0; gate < 4; ++gate) {
                const float gc = recur ? kiln_fadd(g[gate * h], Acc[rr * QP + gate * J + jj]) : g[gate * h];
                pre[gate] = kiln_fadd(gc, a.bias[gate * h + j]);
            }
            const lstm::CellOut c = lstm::cell_forward(pre[0], pre[1], pre[2], pre[3], Cs[p]);
            Cs[p] = c.c;
            const int64_t at = rr * ldh + (int64_t)s * h + j;
            a.y[at] = c.h;
            if (a.cell) {
                g[0] = c.i;
                g[h] = c.f;
                g[2 * h] = c.g;
                g[3 * h] = c.o;
                a.cell[at] = c.c;
                if (!last) a.hprev[at + h] = c.h;
            }
            if (last) {
                a.h_n[(int64_t)rr * h + j] = c.h;
                a.c_n[(int64_t)rr * h + j] = c.c;
            }
        }
        if (last) break;

        // C: wait for every block's h_t, then stage it; __ldcg because other blocks wrote it during this kernel.
        grid_barrier(a.counter, (unsigned)(s + 1) * gridDim.x);
        for (int idx = tid; idx < n * h; idx += kPersistThreads) {
            const int rr = idx / h, k = idx - rr * h;
            Hs[rr * pitch + k] = __ldcg(a.y + rr * ldh + (int64_t)s * h + k);
        }
        __syncthreads();
    }
}

using PersistKernel = void (*)(PersistArgs);

PersistKernel persist_kernel(int J) {
    switch (J) {
        case 1: return lstm_persistent_forward_kernel<1>;
        case 2: return lstm_persistent_forward_kernel<2>;
        case 4: return lstm_persistent_forward_kernel<4>;
        default: return lstm_persistent_forward_kernel<8>;
    }
}

// How the persistent forward would run here: units per block (0: it does not apply), blocks, shared memory.
struct PersistPlan {
    int J = 0, blocks = 0;
    size_t smem = 0;
};

// The fewest units per block a plan may take: KILN_LSTM_PERSIST_UNITS = 2, 4 or 8, else 1. A test hook: J follows the
// SM count, so a GPU with 128 SMs or more never runs J = 4 or 8 at h <= 256, and bench/gpu-check.sh runs the LSTM
// parity cases again with each forced, so that every instantiation meets the CPU on whatever GPU runs it.
int min_persist_units() {
    static const int units = [] {
        const char* v = std::getenv("KILN_LSTM_PERSIST_UNITS");
        const int u = v ? std::atoi(v) : 1;
        return u == 2 || u == 4 || u == 8 ? u : 1;
    }();
    return units;
}

PersistPlan plan_persistent(int64_t n, int64_t t, int64_t h) {
    PersistPlan plan;
    if (n < 1 || n > kPersistMaxN || h < 1 || h > kPersistMaxH || t < 1) return plan;
    int dev = 0, sms = 0, optin = 0, coop = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, dev) != cudaSuccess) {
        cudaGetLastError();  // a failed query only means "use the per-step path"; do not leave it for the caller
        return plan;
    }
    if (!coop) return plan;
    // Fewest units per block that still gives every block an SM of its own: each block re-reads all of h_{t-1}
    // from L2 every step, so more blocks than SMs would only multiply that traffic.
    for (int J : {1, 2, 4, 8}) {
        if (J < min_persist_units()) continue;
        const int blocks = (int)((h + J - 1) / J);
        if (blocks > sms) continue;
        const size_t smem = persist_smem_bytes(J, (int)n, (int)h);
        if (smem > (size_t)optin) return plan;  // larger J only needs more
        if ((uint64_t)t * (uint64_t)blocks >= (uint64_t)INT_MAX) return plan;  // barrier counter and int step range
        PersistKernel k = persist_kernel(J);
        int per_sm = 0;
        if (cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem) != cudaSuccess ||
            cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, kPersistThreads, smem) != cudaSuccess) {
            cudaGetLastError();
            return plan;
        }
        if (per_sm < 1) return plan;
        plan.J = J;
        plan.blocks = blocks;
        plan.smem = smem;
        return plan;
    }
    return plan;
}

constexpr size_t kAlign = 256;
size_t align_up(size_t b) { return (b + kAlign - 1) / kAlign * kAlign; }

bool use_persistent(const PersistPlan& plan, LstmPath path) { return plan.J > 0 && path != LstmPath::Step; }

unsigned cells_grid(int64_t cells) { return grid_1d((size_t)cells, kBlock); }

}  // namespace

bool lstm_forward_uses_persistent(int64_t n, int64_t t, int64_t h) { return plan_persistent(n, t, h).J > 0; }

size_t lstm_forward_workspace_bytes(int64_t n, int64_t t, int64_t f, int64_t h, bool training, LstmPath path) {
    const size_t pre = training ? 0 : align_up((size_t)(n * t * 4 * h) * sizeof(float));
    const bool persistent = path != LstmPath::Step && use_persistent(plan_persistent(n, t, h), path);
    return pre + (persistent ? kAlign : 0);
}

cudaError_t lstm_forward_f32(cudaStream_t s, Scratch& scratch, int64_t n, int64_t t, int64_t f, int64_t h,
                             const float* x, const float* h0, const float* c0, const float* w_ih, const float* w_hh,
                             const float* bias, float* y, float* h_n, float* c_n, float* reserve) {
    return lstm_forward_on_path_f32(s, scratch, LstmPath::Auto, n, t, f, h, x, h0, c0, w_ih, w_hh, bias, y, h_n, c_n,
                                    reserve);
}

cudaError_t lstm_forward_on_path_f32(cudaStream_t s, Scratch& scratch, LstmPath path, int64_t n, int64_t t, int64_t f,
                                     int64_t h, const float* x, const float* h0, const float* c0, const float* w_ih,
                                     const float* w_hh, const float* bias, float* y, float* h_n, float* c_n,
                                     float* reserve) {
    const int64_t G = 4 * h, ldg = t * G, ldh = t * h;
    const bool training = reserve != nullptr;
    const size_t ws_bytes = lstm_forward_workspace_bytes(n, t, f, h, training, path);
    void* workspace = scratch.get(ws_bytes);
    if (ws_bytes && !workspace) return cudaErrorInvalidValue;
    const lstm::ReserveLayout L = lstm::reserve_layout(n, t, h);
    float* gates = training ? reserve + L.gates : static_cast<float*>(workspace);
    float* cell = training ? reserve + L.cell : nullptr;
    float* hprev = training ? reserve + L.hprev : nullptr;
    const PersistPlan plan = path == LstmPath::Step ? PersistPlan{} : plan_persistent(n, t, h);
    if (path == LstmPath::Persistent && plan.J == 0) return cudaErrorInvalidConfiguration;

    // Input projection of every step at once: gates (n*t, 4h) = x (n*t, f) w_ih^T; the bias joins in the cell.
    cudaError_t err = sgemm(s, false, true, n * t, G, f, 1.0f, x, f, w_ih, f, 0.0f, gates, G);
    if (err != cudaSuccess) return err;

    if (use_persistent(plan, path)) {
        const size_t pre = training ? 0 : align_up((size_t)(n * t * G) * sizeof(float));
        unsigned* counter = reinterpret_cast<unsigned*>(static_cast<char*>(workspace) + pre);
        if ((err = cudaMemsetAsync(counter, 0, sizeof(unsigned), s)) != cudaSuccess) return err;
        PersistArgs a{h0, c0, w_hh, bias, gates, cell, hprev, y, h_n, c_n, counter,
                      (int)n, (int)t, (int)h, persist_pitch((int)h)};
        void* args[] = {&a};
        err = cudaLaunchCooperativeKernel(persist_kernel(plan.J), dim3(plan.blocks),
                                          dim3(kPersistThreads), args, plan.smem, s);
        // The occupancy check said the grid fits, but a GPU shared with other work (MPS, green contexts) can still
        // refuse a cooperative grid; under Auto that only means the per-step path runs instead.
        if (err != cudaErrorCooperativeLaunchTooLarge || path == LstmPath::Persistent) {
            if (err == cudaSuccess) note_kernel_path("persistent");
            return err;
        }
        cudaGetLastError();
    }
    note_kernel_path("per_step");

    if (training) {  // hprev[:, 0] = h0 (or zeros): the backward's dW_hh GEMM reads it like every other step
        hprev_first_kernel<<<cells_grid(n * h), kBlock, 0, s>>>(hprev, ldh, h0, n, h);
        if ((err = cudaGetLastError()) != cudaSuccess) return err;
    }
    for (int64_t st = 0; st < t; ++st) {
        float* gs = gates + st * G;
        // h_{t-1}: the reserve's copy when training, else y's previous step; at step 0 h0, or nothing to add.
        const float* hp = (st == 0 && !h0) ? nullptr : training ? hprev + st * h : (st > 0 ? y + (st - 1) * h : h0);
        const int64_t hp_ld = (training || st > 0) ? ldh : h;
        if (hp && (err = sgemm(s, false, true, n, G, h, 1.0f, hp, hp_ld, w_hh, h, 1.0f, gs, ldg)) != cudaSuccess)
            return err;
        const bool last = st == t - 1;
        FwdStep p;
        p.g = gs;
        p.ldg = ldg;
        p.bias = bias;
        p.c_prev = st > 0 ? (training ? cell + (st - 1) * h : c_n) : c0;
        p.ld_cp = (st > 0 && training) ? ldh : h;
        p.c = training ? cell + st * h : c_n;
        p.ld_c = training ? ldh : h;
        p.y = y + st * h;
        p.ld_y = ldh;
        p.hnext = (training && !last) ? hprev + (st + 1) * h : nullptr;
        p.h_n = last ? h_n : nullptr;
        p.c_n = (last && training) ? c_n : nullptr;
        p.n = n;
        p.h = h;
        cell_forward_kernel<<<cells_grid(n * h), kBlock, 0, s>>>(p);
        if ((err = cudaGetLastError()) != cudaSuccess) return err;
    }
    return cudaSuccess;
}

size_t lstm_backward_workspace_bytes(int64_t n, int64_t t, int64_t f, int64_t h) {
    return align_up((size_t)(n * t * 4 * h) * sizeof(float)) + 2 * align_up((size_t)(n * h) * sizeof(float));
}

cudaError_t lstm_backward_f32(cudaStream_t s, Scratch& scratch, int64_t n, int64_t t, int64_t f, int64_t h,
                              const float* x, const float* c0, const float* w_ih, const float* w_hh,
                              const float* reserve, const float* dy, const float* dh_n, const float* dc_n, float* dx,
                              float* dh0, float* dc0, float* dw_ih, float* dw_hh, float* dbias) {
    void* workspace = scratch.get(lstm_backward_workspace_bytes(n, t, f, h));
    if (!workspace) return cudaErrorInvalidValue;
    const int64_t G = 4 * h, ldg = t * G, ldh = t * h;
    const lstm::ReserveLayout L = lstm::reserve_layout(n, t, h);
    const float* gates = reserve + L.gates;
    const float* cell = reserve + L.cell;
    const float* hprev = reserve + L.hprev;
    char* ws = static_cast<char*>(workspace);
    float* dgates = reinterpret_cast<float*>(ws);  // (n, t, 4h)
    float* dh = reinterpret_cast<float*>(ws + align_up((size_t)(n * t * G) * sizeof(float)));  // (n, h)
    float* dc = reinterpret_cast<float*>(reinterpret_cast<char*>(dh) + align_up((size_t)(n * h) * sizeof(float)));
    cudaError_t err;

    for (int64_t st = t - 1; st >= 0; --st) {
        const bool first = st == t - 1;
        BwdStep p;
        p.g = gates + st * G;
        p.ldg = ldg;
        p.c = cell + st * h;
        p.c_prev = st > 0 ? cell + (st - 1) * h : c0;
        p.ld_cp = st > 0 ? ldh : h;
        p.ld = ldh;
        p.dy = dy + st * h;
        p.dh = first ? dh_n : dh;
        p.dc = first ? dc_n : dc;
        p.dg = dgates + st * G;
        p.dc_out = (st == 0 && dc0) ? dc0 : dc;
        p.n = n;
        p.h = h;
        cell_backward_kernel<<<cells_grid(n * h), kBlock, 0, s>>>(p);
        if ((err = cudaGetLastError()) != cudaSuccess) return err;
        // dh_{t-1} (n, h) = dgates_t (n, 4h) w_hh (4h, h); at step 0 that is dh0.
        float* dh_out = st > 0 ? dh : dh0;
        if (dh_out && (err = sgemm(s, false, false, n, h, G, 1.0f, p.dg, ldg, w_hh, h, 0.0f, dh_out, h)) != cudaSuccess)
            return err;
    }

    // Weight gradients over all steps at once: the rows (b, t) of dgates pair with the rows of x and of hprev.
    if ((err = sgemm(s, true, false, G, f, n * t, 1.0f, dgates, G, x, f, 0.0f, dw_ih, f)) != cudaSuccess) return err;
    if ((err = sgemm(s, true, false, G, h, n * t, 1.0f, dgates, G, hprev, h, 0.0f, dw_hh, h)) != cudaSuccess)
        return err;
    column_sum_kernel<<<(unsigned)((G + 31) / 32), dim3(32, 32), 0, s>>>(dgates, n * t, G, dbias);
    if ((err = cudaGetLastError()) != cudaSuccess) return err;
    if (dx && (err = sgemm(s, false, false, n * t, f, G, 1.0f, dgates, G, w_ih, f, 0.0f, dx, f)) != cudaSuccess)
        return err;
    return cudaSuccess;
}

}  // namespace kiln::cuda

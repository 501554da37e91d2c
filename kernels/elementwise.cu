// Elementwise kernels: fill, binary ops with broadcasting (forward and backward), activations, scale, axpy, and the
// fused bias + GELU (its dbias is the binary ops' deterministic column sum).
// Conventions: grid-stride loops over flat indices, in float4 chunks of four where the pointers are aligned
// (common/chunked.cuh; broadcasting ones too when a row is whole chunks); outputs are assigned, never accumulated; the
// per-element math
// is kernels/common/activations.h, shared with native/src/cpu/elementwise.cpp. A broadcast operand's gradient is a
// deterministic column sum (no atomics): the same shape always reduces in the same order.
#include "common/activations.h"
#include "common/chunked.cuh"
#include "common/launch.h"
#include "elementwise.h"

namespace kiln::cuda {

namespace {

constexpr int kBlock = 256;

__global__ void fill_kernel(float* __restrict__ y, size_t n, float value) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        y[i] = value;
}

// Grid-stride position k plus, when Track, its column k % inner, advanced without a 64-bit division per step
// (one per thread at the start).
template <bool Track>
struct FlatCursor {
    int64_t k, col, stride, col_step;
    __device__ explicit FlatCursor(int64_t inner) {
        k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
        stride = (int64_t)gridDim.x * blockDim.x;
        col = Track ? k % inner : 0;
        col_step = Track ? stride % inner : 0;
    }
    __device__ void next(int64_t inner) {
        k += stride;
        if (Track) {
            col += col_step;
            if (col >= inner) col -= inner;
        }
    }
};

// ---- chunked ops (common/chunked.cuh): one(i) for element i, four(c) for chunk c as float4s ----------------------

// y = a op b. BA/BB: that operand is broadcast, read at the column; four() is then used only when inner is a
// multiple of 4, so a chunk lies in one row. y may alias a full operand: every element is read, then written, by one
// thread.
template <int Op, bool BA, bool BB>
struct BinaryFwd {
    const float* a;
    const float* b;
    float* y;
    int64_t inner;
    __device__ void one(int64_t i) const {
        const int64_t col = (BA || BB) ? i % inner : 0;
        y[i] = binary_fwd<Op>(a[BA ? col : i], b[BB ? col : i]);
    }
    __device__ void four(int64_t c) const {
        const int64_t ccol = (BA || BB) ? c % (inner / 4) : 0;
        store4(y, c, map4(load4(a, BA ? ccol : c), load4(b, BB ? ccol : c),
                          [](float u, float v) { return binary_fwd<Op>(u, v); }));
    }
};

// The gradients of operands that are not broadcast (WantA/WantB). da or db may alias dy: dy is read first.
template <int Op, bool WantA, bool WantB>
struct BinaryFullGrads {
    const float* a;
    const float* b;
    const float* dy;
    float* da;
    float* db;
    using R = BinaryGradReads<Op, WantA, WantB>;
    __device__ void one(int64_t i) const {
        const float av = R::a ? a[i] : 0.0f, bv = R::b ? b[i] : 0.0f, g = dy[i];
        if (WantA) da[i] = binary_grad_a<Op>(av, bv, g);
        if (WantB) db[i] = binary_grad_b<Op>(av, bv, g);
    }
    __device__ void four(int64_t c) const {
        const float4 zero = make_float4(0.f, 0.f, 0.f, 0.f);
        const float4 av = R::a ? load4(a, c) : zero, bv = R::b ? load4(b, c) : zero, g = load4(dy, c);
        if (WantA) store4(da, c, map4(av, bv, g, [](float u, float v, float w) { return binary_grad_a<Op>(u, v, w); }));
        if (WantB) store4(db, c, map4(av, bv, g, [](float u, float v, float w) { return binary_grad_b<Op>(u, v, w); }));
    }
};

template <int Act>
struct ActivationFwd {  // y may alias x
    const float* x;
    float* y;
    float alpha;
    __device__ float f(float v) const { return activation_fwd<Act>(v, alpha); }
    __device__ void one(int64_t i) const { y[i] = f(x[i]); }
    __device__ void four(int64_t c) const { store4(y, c, map4(load4(x, c), [this](float v) { return f(v); })); }
};

// dx from x (or from y, for the activations whose derivative is a function of the output) and dy. dx may alias dy.
template <int Act>
struct ActivationBwd {
    const float* x;
    const float* y;
    const float* dy;
    float* dx;
    float alpha;
    static constexpr bool kReadsX = activation_bwd_reads_x(Act);
    __device__ float f(float in, float g) const {
        return activation_bwd<Act>(kReadsX ? in : 0.0f, kReadsX ? 0.0f : in, g, alpha);
    }
    __device__ void one(int64_t i) const { dx[i] = f(kReadsX ? x[i] : y[i], dy[i]); }
    __device__ void four(int64_t c) const {
        store4(dx, c, map4(load4(kReadsX ? x : y, c), load4(dy, c), [this](float in, float g) { return f(in, g); }));
    }
};

struct Scale {  // y = alpha x; y may alias x
    const float* x;
    float* y;
    float alpha;
    __device__ void one(int64_t i) const { y[i] = scale_f(alpha, x[i]); }
    __device__ void four(int64_t c) const {
        const float al = alpha;
        store4(y, c, map4(load4(x, c), [al](float v) { return scale_f(al, v); }));
    }
};

struct Axpy {  // y += alpha x
    const float* x;
    float* y;
    float alpha;
    __device__ void one(int64_t i) const { y[i] = axpy_f(y[i], alpha, x[i]); }
    __device__ void four(int64_t c) const {
        const float al = alpha;
        store4(y, c, map4(load4(y, c), load4(x, c), [al](float yv, float xv) { return axpy_f(yv, al, xv); }));
    }
};

// y = a op b over n = outer * inner; BA/BB: the operand is broadcast and read at the column. y may alias a full
// operand (each element is read and written by one thread), so no pointer here is __restrict__.
template <int Op, bool BA, bool BB>
__global__ void binary_kernel(const float* a, const float* b, float* y, int64_t n, int64_t inner) {
    for (FlatCursor<BA || BB> c(inner); c.k < n; c.next(inner))
        y[c.k] = binary_fwd<Op>(a[BA ? c.col : c.k], b[BB ? c.col : c.k]);
}

// Gradients of the full operands (WantA/WantB), the other read broadcast when BA/BB. da or db may alias dy.
template <int Op, bool WantA, bool WantB, bool BA, bool BB>
__global__ void binary_grad_kernel(const float* a, const float* b, const float* dy, float* da, float* db, int64_t n,
                                   int64_t inner) {
    using R = BinaryGradReads<Op, WantA, WantB>;
    for (FlatCursor<BA || BB> c(inner); c.k < n; c.next(inner)) {
        const float av = R::a ? a[BA ? c.col : c.k] : 0.0f;
        const float bv = R::b ? b[BB ? c.col : c.k] : 0.0f;
        const float g = dy[c.k];
        if (WantA) da[c.k] = binary_grad_a<Op>(av, bv, g);
        if (WantB) db[c.k] = binary_grad_b<Op>(av, bv, g);
    }
}

// Element (o, i) of the gradient of a broadcast operand, before the sum over o.
template <int Op, bool SideA>
struct GradTerm {
    const float* a;
    const float* b;
    const float* dy;
    int64_t sa, sb, inner;
    __device__ float operator()(int64_t o, int64_t i) const {
        using R = BinaryGradReads<Op, SideA, !SideA>;
        const float av = R::a ? __ldg(a + o * sa + i) : 0.0f;
        const float bv = R::b ? __ldg(b + o * sb + i) : 0.0f;
        const float g = __ldg(dy + o * inner + i);
        return SideA ? binary_grad_a<Op>(av, bv, g) : binary_grad_b<Op>(av, bv, g);
    }
};

// Element (o, i) of a plain (rows, inner) matrix: the second pass over the per-split partial sums.
struct PlainTerm {
    const float* x;
    int64_t inner;
    __device__ float operator()(int64_t o, int64_t i) const { return __ldg(x + o * inner + i); }
};

// out[split * inner + i] = sum of term(o, i) over the rows of split blockIdx.y, for the columns of tile blockIdx.x.
// Block (bx, by), bx * by = kBlock: bx columns (a power of two up to 32, so a narrow inner does not idle lanes) by
// `by` row lanes that stride through the split's rows; the row lanes are then folded in shared memory in a fixed
// tree, so the sum is deterministic. A warp reads whole row segments, coalesced.
template <typename Term>
__global__ void __launch_bounds__(kBlock) column_sum_kernel(Term term, float* __restrict__ out, int64_t outer,
                                                            int64_t inner, int64_t rows_per_split) {
    __shared__ float partial[kBlock];
    const int bx = blockDim.x, by = blockDim.y, tx = threadIdx.x, ty = threadIdx.y;
    const int64_t col = blockIdx.x * (int64_t)bx + tx;
    const int64_t r0 = blockIdx.y * rows_per_split;
    const int64_t r1 = r0 + rows_per_split < outer ? r0 + rows_per_split : outer;
    float acc = 0.0f;
    if (col < inner) {
#pragma unroll 4
        for (int64_t o = r0 + ty; o < r1; o += by) acc += term(o, col);
    }
    partial[ty * bx + tx] = acc;
    __syncthreads();
    for (int s = by / 2; s > 0; s /= 2) {
        if (ty < s) partial[ty * bx + tx] += partial[(ty + s) * bx + tx];
        __syncthreads();
    }
    if (ty == 0 && col < inner) out[blockIdx.y * inner + col] = partial[tx];
}

// The launch shape of a column sum over (outer, inner), fixed by the shape alone so results are reproducible on
// any GPU: enough (tile x split) blocks to fill a large GPU (~1024), each row lane taking >= 8 rows of a split.
struct ColumnPlan {
    int bx, by;
    int64_t tiles, splits, rows_per_split;
};

ColumnPlan plan_columns(int64_t outer, int64_t inner) {
    ColumnPlan p;
    p.bx = 1;
    while (p.bx < 32 && p.bx < inner) p.bx *= 2;
    p.by = kBlock / p.bx;
    p.tiles = (inner + p.bx - 1) / p.bx;
    const int64_t target_blocks = 1024, min_rows = 8 * (int64_t)p.by;
    int64_t splits = (target_blocks + p.tiles - 1) / p.tiles;
    const int64_t max_splits = (outer + min_rows - 1) / min_rows;
    if (splits > max_splits) splits = max_splits;
    if (splits > 65535) splits = 65535;
    if (splits < 1) splits = 1;
    p.rows_per_split = (outer + splits - 1) / splits;
    p.splits = p.rows_per_split > 0 ? (outer + p.rows_per_split - 1) / p.rows_per_split : 1;
    return p;
}

// out (inner) = column sums of term over (outer, inner): one pass when a single split covers the rows, else the
// splits' partials go to workspace (splits, inner) and a second pass sums them in split order.
template <typename Term>
cudaError_t column_sum(cudaStream_t s, const Term& term, float* out, int64_t outer, int64_t inner, float* workspace) {
    const ColumnPlan p = plan_columns(outer, inner);
    const dim3 block(p.bx, p.by);
    if (p.splits == 1) {
        column_sum_kernel<Term><<<dim3((unsigned)p.tiles, 1), block, 0, s>>>(term, out, outer, inner, p.rows_per_split);
        return cudaGetLastError();
    }
    column_sum_kernel<Term><<<dim3((unsigned)p.tiles, (unsigned)p.splits), block, 0, s>>>(term, workspace, outer,
                                                                                          inner, p.rows_per_split);
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    // The partials are (splits, inner) with splits <= ~1024: one split of all their rows, same tiles.
    column_sum_kernel<PlainTerm><<<dim3((unsigned)p.tiles, 1), block, 0, s>>>(PlainTerm{workspace, inner}, out,
                                                                              p.splits, inner, p.splits);
    return cudaGetLastError();
}

template <int Op, bool WantA, bool WantB>
cudaError_t launch_full_grads(cudaStream_t s, const float* a, const float* b, const float* dy, float* da, float* db,
                              int64_t n, int64_t inner, bool ba, bool bb) {
    if (!ba && !bb && aligned16(a) && aligned16(b) && aligned16(dy) && aligned16(da) && aligned16(db))
        return launch_chunked_as<true>(s, n, BinaryFullGrads<Op, WantA, WantB>{a, b, dy, da, db});
    const unsigned grid = grid_1d((size_t)n, kBlock);
    if (ba) binary_grad_kernel<Op, WantA, WantB, true, false><<<grid, kBlock, 0, s>>>(a, b, dy, da, db, n, inner);
    else if (bb) binary_grad_kernel<Op, WantA, WantB, false, true><<<grid, kBlock, 0, s>>>(a, b, dy, da, db, n, inner);
    else binary_grad_kernel<Op, WantA, WantB, false, false><<<grid, kBlock, 0, s>>>(a, b, dy, da, db, n, inner);
    return cudaGetLastError();
}

template <int Op>
cudaError_t binary_backward_op(cudaStream_t s, const float* a, int64_t sa, const float* b, int64_t sb,
                               const float* dy, float* da, float* db, int64_t outer, int64_t inner, float* ws) {
    // With one row a stride-0 operand has the full shape, and its "sum over outer" is the element itself.
    const bool ba = sa == 0 && outer != 1, bb = sb == 0 && outer != 1;
    // Broadcast gradients first (stream order): a full gradient written in place over dy must not be read by them.
    if (da && ba) {
        const cudaError_t e = column_sum(s, GradTerm<Op, true>{a, b, dy, sa, sb, inner}, da, outer, inner, ws);
        if (e != cudaSuccess) return e;
    }
    if (db && bb) {
        const cudaError_t e = column_sum(s, GradTerm<Op, false>{a, b, dy, sa, sb, inner}, db, outer, inner, ws);
        if (e != cudaSuccess) return e;
    }
    const int64_t n = outer * inner;
    const bool full_a = da && !ba, full_b = db && !bb;
    if (n == 0 || !(full_a || full_b)) return cudaSuccess;
    if (full_a && full_b) return launch_full_grads<Op, true, true>(s, a, b, dy, da, db, n, inner, ba, bb);
    if (full_a) return launch_full_grads<Op, true, false>(s, a, b, dy, da, db, n, inner, ba, bb);
    return launch_full_grads<Op, false, true>(s, a, b, dy, da, db, n, inner, ba, bb);
}

template <int Op>
cudaError_t binary_op(cudaStream_t s, const float* a, int64_t sa, const float* b, int64_t sb, float* y,
                      int64_t outer, int64_t inner) {
    const int64_t n = outer * inner;
    const bool ba = sa == 0 && outer > 1, bb = sb == 0 && outer > 1;
    if (aligned16(a) && aligned16(b) && aligned16(y) && (!(ba || bb) || inner % 4 == 0)) {
        if (ba && bb) return launch_chunked_as<true>(s, n, BinaryFwd<Op, true, true>{a, b, y, inner});
        if (ba) return launch_chunked_as<true>(s, n, BinaryFwd<Op, true, false>{a, b, y, inner});
        if (bb) return launch_chunked_as<true>(s, n, BinaryFwd<Op, false, true>{a, b, y, inner});
        return launch_chunked_as<true>(s, n, BinaryFwd<Op, false, false>{a, b, y, inner});
    }
    const unsigned grid = grid_1d((size_t)n, kBlock);
    if (ba && bb) binary_kernel<Op, true, true><<<grid, kBlock, 0, s>>>(a, b, y, n, inner);
    else if (ba) binary_kernel<Op, true, false><<<grid, kBlock, 0, s>>>(a, b, y, n, inner);
    else if (bb) binary_kernel<Op, false, true><<<grid, kBlock, 0, s>>>(a, b, y, n, inner);
    else binary_kernel<Op, false, false><<<grid, kBlock, 0, s>>>(a, b, y, n, inner);
    return cudaGetLastError();
}

// ---- fused bias + GELU ---------------------------------------------------------------------------------------------

__device__ __forceinline__ float bias_gelu_fwd(float x, float b) {
    return activation_fwd<KILN_GELU>(kiln_fadd(x, b), 0.0f);
}
__device__ __forceinline__ float bias_gelu_bwd(float x, float b, float dy) {
    return activation_bwd<KILN_GELU>(kiln_fadd(x, b), 0.0f, dy, 0.0f);
}

// y = gelu(x + bias) over n = rows * cols, bias read at the column. y may alias x.
__global__ void bias_gelu_kernel(const float* x, const float* __restrict__ bias, float* y, int64_t n, int64_t cols) {
    for (FlatCursor<true> c(cols); c.k < n; c.next(cols)) y[c.k] = bias_gelu_fwd(x[c.k], __ldg(bias + c.col));
}

// dx = dy gelu'(x + bias). dx may alias dy.
__global__ void bias_gelu_backward_kernel(const float* __restrict__ x, const float* __restrict__ bias, const float* dy,
                                          float* dx, int64_t n, int64_t cols) {
    for (FlatCursor<true> c(cols); c.k < n; c.next(cols))
        dx[c.k] = bias_gelu_bwd(__ldg(x + c.k), __ldg(bias + c.col), dy[c.k]);
}

// The same two as chunked ops, for rows of whole float4 chunks (cols % 4 == 0) with every pointer aligned.
struct BiasGeluFwd {
    const float* x;
    const float* bias;
    float* y;
    int64_t cols;
    __device__ void one(int64_t i) const { y[i] = bias_gelu_fwd(x[i], __ldg(bias + i % cols)); }
    __device__ void four(int64_t c) const {
        store4(y, c, map4(load4(x, c), load4(bias, c % (cols / 4)),
                          [](float v, float b) { return bias_gelu_fwd(v, b); }));
    }
};

struct BiasGeluBwd {  // dx may alias dy
    const float* x;
    const float* bias;
    const float* dy;
    float* dx;
    int64_t cols;
    __device__ void one(int64_t i) const { dx[i] = bias_gelu_bwd(x[i], __ldg(bias + i % cols), dy[i]); }
    __device__ void four(int64_t c) const {
        store4(dx, c, map4(load4(x, c), load4(bias, c % (cols / 4)), load4(dy, c),
                           [](float v, float b, float g) { return bias_gelu_bwd(v, b, g); }));
    }
};

// Element (o, i) of dx, for a dbias wanted without dx.
struct BiasGeluTerm {
    const float* x;
    const float* bias;
    const float* dy;
    int64_t cols;
    __device__ float operator()(int64_t o, int64_t i) const {
        return bias_gelu_bwd(__ldg(x + o * cols + i), __ldg(bias + i), __ldg(dy + o * cols + i));
    }
};

template <int V>
struct Int {
    static constexpr int value = V;
};

// Calls f(Int<op>{}) for the runtime op so each op is its own kernel with no per-element switch.
template <typename F>
cudaError_t with_binary_op(int op, F&& f) {
    switch (op) {
        case KILN_ADD: return f(Int<KILN_ADD>{});
        case KILN_SUB: return f(Int<KILN_SUB>{});
        case KILN_MUL: return f(Int<KILN_MUL>{});
        case KILN_DIV: return f(Int<KILN_DIV>{});
        default: return cudaErrorInvalidValue;
    }
}

template <typename F>
cudaError_t with_activation(int act, F&& f) {
    switch (act) {
        case KILN_RELU: return f(Int<KILN_RELU>{});
        case KILN_LEAKY_RELU: return f(Int<KILN_LEAKY_RELU>{});
        case KILN_TANH: return f(Int<KILN_TANH>{});
        case KILN_SIGMOID: return f(Int<KILN_SIGMOID>{});
        case KILN_GELU: return f(Int<KILN_GELU>{});
        default: return cudaErrorInvalidValue;
    }
}

}  // namespace

cudaError_t fill_f32(cudaStream_t s, float* y, size_t n, float value) {
    if (n == 0) return cudaSuccess;
    fill_kernel<<<grid_1d(n, 256), 256, 0, s>>>(y, n, value);
    return cudaGetLastError();
}

cudaError_t binary_f32(cudaStream_t s, int op, const float* a, int64_t stride_a, const float* b, int64_t stride_b,
                       float* y, int64_t outer, int64_t inner) {
    if (outer <= 0 || inner <= 0) return cudaSuccess;
    return with_binary_op(op, [&](auto o) {
        return binary_op<decltype(o)::value>(s, a, stride_a, b, stride_b, y, outer, inner);
    });
}

size_t binary_backward_workspace_bytes(int64_t outer, int64_t inner) {
    if (outer <= 1 || inner <= 0) return 0;
    const ColumnPlan p = plan_columns(outer, inner);
    return p.splits > 1 ? (size_t)(p.splits * inner) * sizeof(float) : 0;
}

cudaError_t binary_backward_f32(cudaStream_t s, Scratch& scratch, int op, const float* a, int64_t stride_a,
                                const float* b, int64_t stride_b, const float* dy, float* da, float* db, int64_t outer,
                                int64_t inner) {
    if (inner <= 0 || outer < 0) return cudaSuccess;
    const bool reduces = (da && stride_a == 0) || (db && stride_b == 0);
    const size_t bytes = reduces ? binary_backward_workspace_bytes(outer, inner) : 0;
    float* workspace = static_cast<float*>(scratch.get(bytes));
    if (bytes && !workspace) return cudaErrorInvalidValue;
    return with_binary_op(op, [&](auto o) {
        return binary_backward_op<decltype(o)::value>(s, a, stride_a, b, stride_b, dy, da, db, outer, inner,
                                                      workspace);
    });
}

cudaError_t activation_f32(cudaStream_t s, int act, const float* x, float* y, int64_t n, float alpha) {
    if (n <= 0) return cudaSuccess;
    return with_activation(act, [&](auto a) {
        return launch_chunked(s, n, aligned16(x) && aligned16(y), ActivationFwd<decltype(a)::value>{x, y, alpha});
    });
}

cudaError_t activation_backward_f32(cudaStream_t s, int act, const float* x, const float* y, const float* dy,
                                    float* dx, int64_t n, float alpha) {
    if (n <= 0) return cudaSuccess;
    const bool aligned = aligned16(x) && aligned16(y) && aligned16(dy) && aligned16(dx);
    return with_activation(act, [&](auto a) {
        return launch_chunked(s, n, aligned, ActivationBwd<decltype(a)::value>{x, y, dy, dx, alpha});
    });
}

cudaError_t scale_f32(cudaStream_t s, const float* x, float* y, int64_t n, float alpha) {
    if (n <= 0) return cudaSuccess;
    return launch_chunked(s, n, aligned16(x) && aligned16(y), Scale{x, y, alpha});
}

cudaError_t axpy_f32(cudaStream_t s, int64_t n, float alpha, const float* x, float* y) {
    if (n <= 0) return cudaSuccess;
    return launch_chunked(s, n, aligned16(x) && aligned16(y), Axpy{x, y, alpha});
}

cudaError_t bias_gelu_f32(cudaStream_t s, const float* x, const float* bias, float* y, int64_t rows, int64_t cols) {
    const int64_t n = rows * cols;
    if (n <= 0) return cudaSuccess;
    if (cols % 4 == 0 && aligned16(x) && aligned16(bias) && aligned16(y))
        return launch_chunked_as<true>(s, n, BiasGeluFwd{x, bias, y, cols});
    bias_gelu_kernel<<<grid_1d((size_t)n, kBlock), kBlock, 0, s>>>(x, bias, y, n, cols);
    return cudaGetLastError();
}

size_t bias_gelu_backward_workspace_bytes(int64_t rows, int64_t cols) {
    return binary_backward_workspace_bytes(rows, cols);  // the same column sum
}

cudaError_t bias_gelu_backward_f32(cudaStream_t s, Scratch& scratch, const float* x, const float* bias,
                                   const float* dy, float* dx, float* dbias, int64_t rows, int64_t cols) {
    if (cols <= 0 || rows < 0) return cudaSuccess;
    const int64_t n = rows * cols;
    // Scratch first: if the request fails (or throws), the call fails before it has written anything, dx included.
    float* workspace = nullptr;
    if (dbias) {
        const size_t bytes = bias_gelu_backward_workspace_bytes(rows, cols);
        workspace = static_cast<float*>(scratch.get(bytes));
        if (bytes && !workspace) return cudaErrorInvalidValue;
    }
    if (dx && n > 0) {
        cudaError_t e;
        if (cols % 4 == 0 && aligned16(x) && aligned16(bias) && aligned16(dy) && aligned16(dx)) {
            e = launch_chunked_as<true>(s, n, BiasGeluBwd{x, bias, dy, dx, cols});
        } else {
            bias_gelu_backward_kernel<<<grid_1d((size_t)n, kBlock), kBlock, 0, s>>>(x, bias, dy, dx, n, cols);
            e = cudaGetLastError();
        }
        if (e != cudaSuccess) return e;
    }
    if (!dbias) return cudaSuccess;
    // With dx written, dbias sums it (one read per element); without, the column sum evaluates gelu' itself.
    if (dx) return column_sum(s, PlainTerm{dx, cols}, dbias, rows, cols, workspace);
    return column_sum(s, BiasGeluTerm{x, bias, dy, cols}, dbias, rows, cols, workspace);
}

}  // namespace kiln::cuda

// Elementwise ops on the CPU (and the fused bias + GELU): the per-element math of kernels/common/activations.h in
// branch-free loops the compiler vectorizes, split across the pool by parallel_for. Forward entries assign; backward
// entries assign the gradients asked for. The op/activation is a template argument so no hot loop switches per
// element. GELU (plain and fused with the bias), tanh and sigmoid run the vector spans of cpu/elementwise_simd.h where
// the CPU has AVX-512 or AVX2: their erfc, tanh and exp are too costly per element as scalar libm calls. Which path runs depends on the machine alone, and
// every path computes each element from its own inputs, so no result depends on the thread count.
#include "elementwise.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "common/activations.h"
#include "cpu/elementwise_simd.h"
#include "cpu/parallel.h"
#include "cpu/simd.h"

namespace kiln::cpu {

namespace {

constexpr int64_t kGrain = 1 << 14;  // elements per task: enough work to amortize a pool hand-off
constexpr int64_t kGeluGrain = 1 << 12;  // GELU costs ~10x a plain op per element: smaller tasks still pay

// LeakyReLU's select does not vectorize at the baseline's SSE2 (no blend instruction): cloned for AVX-512 and AVX2,
// where it runs about 10x faster than the scalar loop (the GAN's discriminator runs it 8 times a step).
KILN_VECTOR_CLONES
void leaky_relu_span(const float* x, float* y, int64_t n, float alpha) {
    for (int64_t k = 0; k < n; ++k) y[k] = activation_fwd<KILN_LEAKY_RELU>(x[k], alpha);
}

KILN_VECTOR_CLONES
void leaky_relu_backward_span(const float* x, const float* dy, float* dx, int64_t n, float alpha) {
    for (int64_t k = 0; k < n; ++k) dx[k] = activation_bwd<KILN_LEAKY_RELU>(x[k], 0.0f, dy[k], alpha);
}

template <int V>
using Int = std::integral_constant<int, V>;

// Calls f(Int<op>{}) for the runtime op, so the body is instantiated once per op.
template <typename F>
void with_binary_op(int op, F&& f) {
    switch (op) {
        case KILN_ADD: f(Int<KILN_ADD>{}); break;
        case KILN_SUB: f(Int<KILN_SUB>{}); break;
        case KILN_MUL: f(Int<KILN_MUL>{}); break;
        default: f(Int<KILN_DIV>{}); break;
    }
}

template <typename F>
void with_activation(int act, F&& f) {
    switch (act) {
        case KILN_RELU: f(Int<KILN_RELU>{}); break;
        case KILN_LEAKY_RELU: f(Int<KILN_LEAKY_RELU>{}); break;
        case KILN_TANH: f(Int<KILN_TANH>{}); break;
        case KILN_SIGMOID: f(Int<KILN_SIGMOID>{}); break;
        default: f(Int<KILN_GELU>{}); break;
    }
}

// Runs body(begin, end) over [0, n) in parallel chunks of >= grain items.
template <typename Body>
void parallel_range(int64_t n, int64_t grain, Body&& body) {
    if (n <= 0) return;
    parallel_for(n, [&](int64_t begin, int64_t end) { body(begin, end); }, std::max<int64_t>(grain, 1));
}

// Runs seg(k, o, i, len) over [0, outer * inner) in parallel, cut into row segments: flat elements k .. k+len-1 are
// row o, columns i .. i+len-1. Chunks cut the flat range, not the rows, so (few rows, long rows) still spreads
// over every thread.
template <typename Seg>
void for_each_row_segment(int64_t outer, int64_t inner, Seg&& seg) {
    parallel_range(outer * inner, kGrain, [&](int64_t lo, int64_t hi) {
        int64_t o = lo / inner, i = lo % inner;
        for (int64_t k = lo; k < hi;) {
            const int64_t len = std::min(hi - k, inner - i);
            seg(k, o, i, len);
            k += len, ++o, i = 0;
        }
    });
}

// Short rows (inner < kTile / 4) with a broadcast operand make segments too short to vectorize well. Viewing
// (outer, inner) as (outer / m, m * inner) with the broadcast operand tiled m times makes them long; the
// outer % m leftover rows keep the original view. Calls run(a, stride_a, b, stride_b, flat_offset, rows, width)
// with a, b already offset; a NULL (unread) operand stays NULL.
constexpr int64_t kTile = 1024;

template <typename Run>
void with_row_tiling(const float* a, int64_t sa, bool ba, const float* b, int64_t sb, bool bb, int64_t outer,
                     int64_t inner, Run&& run) {
    const int64_t m = inner < kTile / 4 ? kTile / inner : 1;
    const int64_t tiled_rows = m > 1 ? outer / m : 0;
    if (tiled_rows > 0) {
        float ta[kTile], tb[kTile];  // on the calling thread, shared read-only by the pool
        const int64_t w = m * inner;
        for (int64_t k = 0; ba && a && k < w; ++k) ta[k] = a[k % inner];
        for (int64_t k = 0; bb && b && k < w; ++k) tb[k] = b[k % inner];
        run(ba && a ? ta : a, ba ? 0 : w, bb && b ? tb : b, bb ? 0 : w, (int64_t)0, tiled_rows, w);
    }
    const int64_t row0 = tiled_rows * m;
    if (row0 < outer)
        run(a ? a + row0 * sa : a, sa, b ? b + row0 * sb : b, sb, row0 * inner, outer - row0, inner);
}

// ---- binary forward ----

// y[k] = a[k] op b[k] for k < n, where a Scalar operand is the one value a[0] (preloaded, so y may alias it).
template <int Op, bool ScalarA, bool ScalarB>
void binary_span(const float* a, const float* b, float* y, int64_t n) {
    if (n <= 0) return;
    const float a0 = ScalarA ? a[0] : 0.0f, b0 = ScalarB ? b[0] : 0.0f;
    for (int64_t k = 0; k < n; ++k) y[k] = binary_fwd<Op>(ScalarA ? a0 : a[k], ScalarB ? b0 : b[k]);
}

template <int Op>
void binary_forward(const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t outer, int64_t inner) {
    // A stride-0 operand only broadcasts when there is more than one row.
    const bool ba = sa == 0 && outer > 1, bb = sb == 0 && outer > 1;
    if (!ba && !bb) {  // same shapes: one flat span
        parallel_range(outer * inner, kGrain, [&](int64_t lo, int64_t hi) {
            binary_span<Op, false, false>(a + lo, b + lo, y + lo, hi - lo);
        });
    } else if (inner == 1) {  // a broadcast operand is one value: a flat span with a scalar
        parallel_range(outer, kGrain, [&](int64_t lo, int64_t hi) {
            if (ba && bb) binary_span<Op, true, true>(a, b, y + lo, hi - lo);
            else if (ba) binary_span<Op, true, false>(a, b + lo, y + lo, hi - lo);
            else binary_span<Op, false, true>(a + lo, b, y + lo, hi - lo);
        });
    } else {  // row segments: within a row both operands are contiguous, so the segment loop vectorizes
        with_row_tiling(a, sa, ba, b, sb, bb, outer, inner,
                        [&](const float* pa, int64_t psa, const float* pb, int64_t psb, int64_t flat, int64_t rows,
                            int64_t width) {
                            for_each_row_segment(rows, width, [&](int64_t k, int64_t o, int64_t i, int64_t len) {
                                binary_span<Op, false, false>(pa + o * psa + i, pb + o * psb + i, y + flat + k, len);
                            });
                        });
    }
}

// ---- binary backward ----

// p + k, keeping NULL (an operand or gradient that is not read or wanted) as NULL.
template <typename T>
T* off(T* p, int64_t k) { return p ? p + k : p; }

// Full-operand gradients over a span: da[k], db[k] from a[k], b[k], dy[k] (Scalar: the operand is a[0] / b[0]).
// Reads of k happen before the writes of k, so da or db may alias dy.
template <int Op, bool WantA, bool WantB, bool ScalarA, bool ScalarB>
void grad_span(const float* a, const float* b, const float* dy, float* da, float* db, int64_t n) {
    if (n <= 0) return;
    using R = BinaryGradReads<Op, WantA, WantB>;
    const float a0 = R::a && ScalarA ? a[0] : 0.0f, b0 = R::b && ScalarB ? b[0] : 0.0f;
    for (int64_t k = 0; k < n; ++k) {
        const float av = R::a ? (ScalarA ? a0 : a[k]) : 0.0f;
        const float bv = R::b ? (ScalarB ? b0 : b[k]) : 0.0f;
        const float g = dy[k];
        if (WantA) da[k] = binary_grad_a<Op>(av, bv, g);
        if (WantB) db[k] = binary_grad_b<Op>(av, bv, g);
    }
}

// Gradients of the full operands (those with WantX), the other operand read as it was broadcast in the forward.
template <int Op, bool WantA, bool WantB>
void full_grads(const float* a, int64_t sa, const float* b, int64_t sb, const float* dy, float* da, float* db,
                int64_t outer, int64_t inner, bool ba, bool bb) {
    if (!ba && !bb) {
        parallel_range(outer * inner, kGrain, [&](int64_t lo, int64_t hi) {
            grad_span<Op, WantA, WantB, false, false>(off(a, lo), off(b, lo), dy + lo, off(da, lo), off(db, lo),
                                                      hi - lo);
        });
    } else if (inner == 1) {  // exactly one of a, b broadcasts (the wanted one is full)
        parallel_range(outer, kGrain, [&](int64_t lo, int64_t hi) {
            const int64_t len = hi - lo;
            if (ba) grad_span<Op, WantA, WantB, true, false>(a, off(b, lo), dy + lo, off(da, lo), off(db, lo), len);
            else grad_span<Op, WantA, WantB, false, true>(off(a, lo), b, dy + lo, off(da, lo), off(db, lo), len);
        });
    } else {
        with_row_tiling(a, sa, ba, b, sb, bb, outer, inner,
                        [&](const float* pa, int64_t psa, const float* pb, int64_t psb, int64_t flat, int64_t rows,
                            int64_t width) {
                            for_each_row_segment(rows, width, [&](int64_t k, int64_t o, int64_t i, int64_t len) {
                                const int64_t f = flat + k;
                                grad_span<Op, WantA, WantB, false, false>(off(pa, o * psa + i), off(pb, o * psb + i),
                                                                          dy + f, off(da, f), off(db, f), len);
                            });
                        });
    }
}

constexpr int64_t kColChunk = 512;        // columns per reduction task: 4 KiB of double accumulators
constexpr int64_t kMinTaskElems = 1 << 14;
constexpr int64_t kTargetTasks = 256;     // fixed, not the thread count, so the result never depends on it

// sums[i] = sum over o < outer of grad(o, i), accumulated in double; outer >= 1. The (row block x column chunk)
// decomposition depends only on the shape, and row-block partials are added in order, so the result is the same
// for any number of threads. Rows are read contiguously within a chunk.
template <int Op, bool SideA>
void column_sums(const float* a, int64_t sa, const float* b, int64_t sb, const float* dy, int64_t outer,
                 int64_t inner, double* sums) {
    using R = BinaryGradReads<Op, SideA, !SideA>;
    const int64_t cw = std::min(inner, kColChunk);
    const int64_t chunks = (inner + cw - 1) / cw;
    const int64_t min_rows = std::max<int64_t>(1, kMinTaskElems / cw);
    const int64_t want_blocks = std::max<int64_t>(1, (kTargetTasks + chunks - 1) / chunks);
    const int64_t rb0 = std::max<int64_t>(min_rows, (outer + want_blocks - 1) / want_blocks);
    const int64_t blocks = (outer + rb0 - 1) / rb0;
    const int64_t rb = (outer + blocks - 1) / blocks;  // even out the blocks
    // Allocated here, outside the pool, so a bad_alloc reaches the entry's guard instead of being dropped by a task.
    std::vector<double> partial(blocks > 1 ? (size_t)(blocks * inner) : 0);
    double* const dst_base = blocks > 1 ? partial.data() : sums;

    parallel_range(blocks * chunks, 1, [&](int64_t lo, int64_t hi) {
        double acc[kColChunk];
        for (int64_t t = lo; t < hi; ++t) {
            const int64_t r = t / chunks, c0 = (t % chunks) * cw;
            const int64_t nc = std::min(cw, inner - c0);
            const int64_t o_end = std::min(outer, (r + 1) * rb);
            for (int64_t j = 0; j < nc; ++j) acc[j] = 0.0;
            // Four rows per pass over the accumulators: a quarter of the accumulator loads and stores.
            auto term = [&](int64_t o, int64_t j) -> double {
                const float av = R::a ? a[o * sa + c0 + j] : 0.0f, bv = R::b ? b[o * sb + c0 + j] : 0.0f;
                const float g = dy[o * inner + c0 + j];
                return (double)(SideA ? binary_grad_a<Op>(av, bv, g) : binary_grad_b<Op>(av, bv, g));
            };
            int64_t o = r * rb;
            for (; o + 4 <= o_end; o += 4)
                for (int64_t j = 0; j < nc; ++j)
                    acc[j] += (term(o, j) + term(o + 1, j)) + (term(o + 2, j) + term(o + 3, j));
            for (; o < o_end; ++o)
                for (int64_t j = 0; j < nc; ++j) acc[j] += term(o, j);
            double* dst = dst_base + (blocks > 1 ? r * inner : 0) + c0;
            for (int64_t j = 0; j < nc; ++j) dst[j] = acc[j];
        }
    });
    if (blocks == 1) return;
    parallel_range(inner, kGrain / blocks, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
            double s = 0.0;
            for (int64_t r = 0; r < blocks; ++r) s += partial[(size_t)(r * inner + i)];
            sums[i] = s;
        }
    });
}

// out (inner) = the broadcast operand's gradient, summed over outer. Short rows are tiled (with_row_tiling) so
// the column loops are long; the tiled columns are then folded back onto the inner ones, in a fixed order.
template <int Op, bool SideA>
void broadcast_grad(const float* a, int64_t sa, bool ba, const float* b, int64_t sb, bool bb, const float* dy,
                    float* out, int64_t outer, int64_t inner) {
    if (inner <= 0) return;
    std::vector<double> total((size_t)inner, 0.0), part;
    if (outer > 0) {
        with_row_tiling(a, sa, ba, b, sb, bb, outer, inner,
                        [&](const float* pa, int64_t psa, const float* pb, int64_t psb, int64_t flat, int64_t rows,
                            int64_t width) {
                            part.assign((size_t)width, 0.0);
                            column_sums<Op, SideA>(pa, psa, pb, psb, dy + flat, rows, width, part.data());
                            for (int64_t k = 0; k < width; ++k) total[(size_t)(k % inner)] += part[(size_t)k];
                        });
    }
    for (int64_t i = 0; i < inner; ++i) out[i] = (float)total[(size_t)i];  // an empty sum (outer == 0) is 0
}

template <int Op>
void binary_backward(const float* a, int64_t sa, const float* b, int64_t sb, const float* dy, float* da, float* db,
                     int64_t outer, int64_t inner) {
    // With one row a stride-0 operand has the full shape, and its "sum over outer" is the element itself.
    const bool ba = sa == 0 && outer != 1, bb = sb == 0 && outer != 1;
    // Broadcast gradients first: a full gradient written in place over dy must not be read back by them.
    if (da && ba) broadcast_grad<Op, true>(a, sa, ba, b, sb, bb, dy, da, outer, inner);
    if (db && bb) broadcast_grad<Op, false>(a, sa, ba, b, sb, bb, dy, db, outer, inner);
    const bool full_a = da && !ba, full_b = db && !bb;
    if (full_a && full_b) full_grads<Op, true, true>(a, sa, b, sb, dy, da, db, outer, inner, ba, bb);
    else if (full_a) full_grads<Op, true, false>(a, sa, b, sb, dy, da, db, outer, inner, ba, bb);
    else if (full_b) full_grads<Op, false, true>(a, sa, b, sb, dy, da, db, outer, inner, ba, bb);
}

}  // namespace

void fill_f32(float* y, size_t n, float value) {
    parallel_for((int64_t)n, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) y[i] = value;
    }, 1 << 16);
}

void binary_f32(int op, const float* a, int64_t stride_a, const float* b, int64_t stride_b, float* y, int64_t outer,
                int64_t inner) {
    if (outer <= 0 || inner <= 0) return;
    with_binary_op(op, [&](auto o) { binary_forward<decltype(o)::value>(a, stride_a, b, stride_b, y, outer, inner); });
}

void binary_backward_f32(int op, const float* a, int64_t stride_a, const float* b, int64_t stride_b, const float* dy,
                         float* da, float* db, int64_t outer, int64_t inner) {
    if (inner <= 0) return;
    with_binary_op(op, [&](auto o) {
        binary_backward<decltype(o)::value>(a, stride_a, b, stride_b, dy, da, db, outer, inner);
    });
}

const ActivationSpans* activation_spans() {
    return spans_for_isa(avx512::kActivationSpans, avx2::kActivationSpans);
}

void activation_f32(int act, const float* x, float* y, int64_t n, float alpha) {
    with_activation(act, [&](auto a) {
        constexpr int Act = decltype(a)::value;
        const ActivationSpans* spans = activation_spans();
        if ((Act == KILN_GELU || Act == KILN_TANH || Act == KILN_SIGMOID) && spans) {
            parallel_range(n, kGeluGrain, [&](int64_t lo, int64_t hi) {
                if (Act == KILN_GELU) spans->gelu(x + lo, nullptr, y + lo, hi - lo);
                else if (Act == KILN_TANH) spans->tanh(x + lo, y + lo, hi - lo);
                else spans->sigmoid(x + lo, y + lo, hi - lo);
            });
            return;
        }
        parallel_range(n, kGrain, [&](int64_t lo, int64_t hi) {
            if (Act == KILN_LEAKY_RELU) return leaky_relu_span(x + lo, y + lo, hi - lo, alpha);
            for (int64_t k = lo; k < hi; ++k) y[k] = activation_fwd<Act>(x[k], alpha);
        });
    });
}

void activation_backward_f32(int act, const float* x, const float* y, const float* dy, float* dx, int64_t n,
                             float alpha) {
    with_activation(act, [&](auto a) {
        constexpr int Act = decltype(a)::value;
        constexpr bool ReadsX = activation_bwd_reads_x(Act);
        const ActivationSpans* spans = activation_spans();
        if (Act == KILN_GELU && spans) {
            parallel_range(n, kGeluGrain, [&](int64_t lo, int64_t hi) {
                spans->gelu_backward(x + lo, nullptr, dy + lo, dx + lo, nullptr, hi - lo);
            });
            return;
        }
        parallel_range(n, kGrain, [&](int64_t lo, int64_t hi) {
            if (Act == KILN_LEAKY_RELU) return leaky_relu_backward_span(x + lo, dy + lo, dx + lo, hi - lo, alpha);
            for (int64_t k = lo; k < hi; ++k)
                dx[k] = activation_bwd<Act>(ReadsX ? x[k] : 0.0f, ReadsX ? 0.0f : y[k], dy[k], alpha);
        });
    });
}

void scale_f32(const float* x, float* y, int64_t n, float alpha) {
    parallel_range(n, kGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t k = lo; k < hi; ++k) y[k] = scale_f(alpha, x[k]);
    });
}

void axpy_f32(int64_t n, float alpha, const float* x, float* y) {
    parallel_range(n, kGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t k = lo; k < hi; ++k) y[k] = axpy_f(y[k], alpha, x[k]);
    });
}

// ---- fused bias + GELU ---------------------------------------------------------------------------------------------

namespace {

inline float bias_gelu_fwd(float x, float b) { return activation_fwd<KILN_GELU>(kiln_fadd(x, b), 0.0f); }
inline float bias_gelu_bwd(float x, float b, float dy) {
    return activation_bwd<KILN_GELU>(kiln_fadd(x, b), 0.0f, dy, 0.0f);
}

constexpr int64_t kMaxBiasBlocks = 64;      // row blocks of the dbias partials
constexpr int64_t kMinBiasBlockRows = 8;    // partials take at most a quarter of the bytes of x
constexpr int64_t kMinBiasBlockElems = 1 << 14;

}  // namespace

void bias_gelu_f32(const float* x, const float* bias, float* y, int64_t rows, int64_t cols) {
    if (rows <= 0 || cols <= 0) return;
    const ActivationSpans* spans = activation_spans();
    for_each_row_segment(rows, cols, [&](int64_t k, int64_t, int64_t i, int64_t len) {
        const float* xs = x + k;
        const float* bs = bias + i;
        float* ys = y + k;
        if (spans) return spans->gelu(xs, bs, ys, len);
        for (int64_t j = 0; j < len; ++j) ys[j] = bias_gelu_fwd(xs[j], bs[j]);
    });
}

void bias_gelu_backward_f32(const float* x, const float* bias, const float* dy, float* dx, float* dbias, int64_t rows,
                            int64_t cols) {
    if (cols <= 0 || (!dx && !dbias)) return;
    const ActivationSpans* spans = activation_spans();
    if (!dbias) {
        for_each_row_segment(rows, cols, [&](int64_t k, int64_t, int64_t i, int64_t len) {
            if (spans) return spans->gelu_backward(x + k, bias + i, dy + k, dx + k, nullptr, len);
            for (int64_t j = 0; j < len; ++j) dx[k + j] = bias_gelu_bwd(x[k + j], bias[i + j], dy[k + j]);
        });
        return;
    }
    // Row blocks, fixed by the shape: each sums its rows' gradients into its own double partial (in row order) while
    // writing dx, and the partials are added in block order, so dbias does not depend on the thread count.
    const int64_t min_rows = std::max(kMinBiasBlockRows, (kMinBiasBlockElems + cols - 1) / cols);
    const int64_t block_rows = std::max(min_rows, (rows + kMaxBiasBlocks - 1) / kMaxBiasBlocks);
    const int64_t blocks = (rows + block_rows - 1) / block_rows;
    std::vector<double> part((size_t)(blocks * cols));  // here, so a bad_alloc reaches the entry's guard
    parallel_range(blocks, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t blk = b0; blk < b1; ++blk) {
            double* acc = part.data() + blk * cols;
            const int64_t r_end = std::min(rows, (blk + 1) * block_rows);
            for (int64_t r = blk * block_rows; r < r_end; ++r) {
                const float* xs = x + r * cols;
                const float* gs = dy + r * cols;
                if (spans) {
                    spans->gelu_backward(xs, bias, gs, dx ? dx + r * cols : nullptr, acc, cols);
                    continue;
                }
                for (int64_t i = 0; i < cols; ++i) {
                    const float g = bias_gelu_bwd(xs[i], bias[i], gs[i]);
                    if (dx) dx[r * cols + i] = g;  // after the reads of element i: dx may alias dy
                    acc[i] += (double)g;
                }
            }
        }
    });
    parallel_range(cols, 1024, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) {
            double s = 0.0;
            for (int64_t blk = 0; blk < blocks; ++blk) s += part[(size_t)(blk * cols + c)];
            dbias[c] = (float)s;  // an empty sum (rows == 0) is 0
        }
    });
}

}  // namespace kiln::cpu

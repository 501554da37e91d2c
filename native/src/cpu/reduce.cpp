// Reductions and softmax on the CPU: parallel over rows (or (row, block) / (o, column-chunk) tasks when rows are few
// and long), sums in double in fixed blocks so that results do not depend on the thread count. The per-element math
// is kernels/common/softmax_math.h, shared with kernels/reduce.cu.
#include "reduce.h"

#include <algorithm>
#include <vector>

#include "common/softmax_math.h"
#include "cpu/parallel.h"
#include "cpu/reduce_rows.h"
#include "cpu/simd.h"

namespace kiln::cpu {

namespace {

constexpr int64_t kGrainElems = 1 << 14;  // elements per parallel_for chunk: enough to amortize the fork
constexpr int64_t kColChunk = 256;        // columns of a column-sum task: its double accumulators stay in L1

int64_t grain_for(int64_t work_per_item) {
    return std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, work_per_item));
}

// inner == 1: y[o] = scale * sum of row o (len contiguous floats). A row longer than kSumBlock is split into blocks
// that run as separate tasks; their partials are added in order, exactly as blocked_range_sum(row_sum) would.
void sum_rows(const float* x, float* y, int64_t outer, int64_t len, float scale) {
    const int64_t blocks = (len + kSumBlock - 1) / kSumBlock;
    if (blocks <= 1) {
        parallel_for(outer, [&](int64_t o0, int64_t o1) {
            for (int64_t o = o0; o < o1; ++o) y[o] = (float)(row_sum(x + o * len, len) * (double)scale);
        }, grain_for(len));
        return;
    }
    std::vector<double> part((size_t)(outer * blocks));
    parallel_for(outer * blocks, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t o = t / blocks, b = t - o * blocks;
            const int64_t begin = b * kSumBlock;
            part[t] = row_sum(x + o * len + begin, std::min(len - begin, kSumBlock));
        }
    }, 1);
    for (int64_t o = 0; o < outer; ++o) {
        double total = 0.0;
        for (int64_t b = 0; b < blocks; ++b) total += part[o * blocks + b];
        y[o] = (float)(total * (double)scale);
    }
}

// acc[i] += x[i] for i < w, in double: the column sums' inner loop, cloned per ISA so AVX-512 widens 8 floats at a
// time (the baseline build does 2). Each acc[i] still adds the same terms in the same order: the same bits.
KILN_VECTOR_CLONES
void add_row_to_double(const float* x, double* acc, int64_t w) {
    for (int64_t i = 0; i < w; ++i) acc[i] += (double)x[i];
}

// inner > 1: y[o, i] = scale * sum_l x[o, l, i]. A task owns (o, a chunk of kColChunk columns, a range of l) and adds
// whole rows into double accumulators (a vectorizable loop, no reassociation needed). When (o, chunk) tasks are too
// few for the pool and columns are long, len is cut into `parts` ranges whose partials are added in order; that
// choice depends on the shape only.
void sum_columns(const float* x, float* y, int64_t outer, int64_t len, int64_t inner, float scale) {
    const int64_t chunks = (inner + kColChunk - 1) / kColChunk;
    const int64_t tasks = outer * chunks;
    const int64_t parts = (tasks < 16 && len >= 2048) ? std::min<int64_t>(64, len / 1024) : 1;
    const int64_t part_len = (len + parts - 1) / parts;
    std::vector<double> partial(parts > 1 ? (size_t)(outer * inner * parts) : 0);
    parallel_for(tasks * parts, [&](int64_t t0, int64_t t1) {
        double acc[kColChunk];
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t task = t / parts, p = t - task * parts;
            const int64_t o = task / chunks, i0 = (task - o * chunks) * kColChunk;
            const int64_t w = std::min(kColChunk, inner - i0);
            const int64_t l0 = std::min(len, p * part_len), l1 = std::min(len, l0 + part_len);
            std::fill(acc, acc + w, 0.0);
            for (int64_t l = l0; l < l1; ++l) {
                add_row_to_double(x + (o * len + l) * inner + i0, acc, w);
            }
            if (parts == 1) {
                for (int64_t i = 0; i < w; ++i) y[o * inner + i0 + i] = (float)(acc[i] * (double)scale);
            } else {
                for (int64_t i = 0; i < w; ++i) partial[(size_t)(((o * inner) + i0 + i) * parts + p)] = acc[i];
            }
        }
    }, grain_for(part_len * std::min(inner, kColChunk)));
    if (parts > 1) {
        for (int64_t k = 0; k < outer * inner; ++k) {
            double total = 0.0;
            for (int64_t p = 0; p < parts; ++p) total += partial[(size_t)(k * parts + p)];
            y[k] = (float)(total * (double)scale);
        }
    }
}

// y[c] = softmax_out(y[c], s) = y[c] / s for c < cols: one IEEE division per element, cloned per ISA (16 at a time on
// AVX-512 instead of SSE2's 4), so the bits are the scalar loop's.
KILN_VECTOR_CLONES
void divide_row(float* y, int64_t cols, float s) {
    for (int64_t c = 0; c < cols; ++c) y[c] = softmax_out(y[c], s);
}

void softmax_row(const float* x, float* y, int64_t cols, bool log) {
    const float m = row_max(x, cols);
    if (log) {
        const float log_s = kiln_log_f32((float)row_sum_exp(x, cols, m));
        for (int64_t c = 0; c < cols; ++c) y[c] = log_softmax_out(x[c], m, log_s);
        return;
    }
    // y holds exp(x - m) until the sum is known; this also works when y aliases x.
    if (const RowSpans* spans = row_spans()) {
        spans->exp_shifted(x, cols, m, y);
    } else {
        for (int64_t c = 0; c < cols; ++c) y[c] = kiln_exp_f32(kiln_fadd(x[c], -m));
    }
    const float s = (float)row_sum(y, cols);
    divide_row(y, cols, s);
}

}  // namespace

// The row's maximum (NaN ignored; -inf for a row of NaN or no columns), 16 running maxima at a time so the loop is
// not one long compare chain; cloned per ISA. A maximum of zero may come back as either of the row's zeros: m only
// shifts exp(x - m), where +0 and -0 give the same values.
KILN_VECTOR_CLONES
float row_max(const float* x, int64_t cols) {
    constexpr int kLanes = 16;
    float lane[kLanes];
    for (int j = 0; j < kLanes; ++j) lane[j] = kiln_neg_inf();
    int64_t c = 0;
    for (; c + kLanes <= cols; c += kLanes)
        for (int j = 0; j < kLanes; ++j) lane[j] = x[c + j] > lane[j] ? x[c + j] : lane[j];
    float m = kiln_neg_inf();
    for (int j = 0; j < kLanes; ++j) m = lane[j] > m ? lane[j] : m;
    for (; c < cols; ++c) m = x[c] > m ? x[c] : m;
    return m;
}

const RowSpans* row_spans() { return spans_for_isa(avx512::kRowSpans, avx2::kRowSpans); }

double row_sum(const float* x, int64_t n) {
    if (const RowSpans* spans = row_spans()) return spans->sum(x, n);
    return sum_range(0, n, [x](int64_t i) { return (double)x[i]; });
}

double row_dot(const float* x, const float* w, int64_t n) {
    if (const RowSpans* spans = row_spans()) return spans->dot(x, w, n);
    return sum_range(0, n, [x, w](int64_t i) { return (double)x[i] * w[i]; });
}

double row_sum_exp(const float* x, int64_t cols, float m) {
    if (const RowSpans* spans = row_spans()) return spans->sum_exp_shifted(x, cols, m);
    return sum_range(0, cols, [x, m](int64_t c) { return (double)kiln_exp_f32(kiln_fadd(x[c], -m)); });
}

int64_t row_grain(int64_t cols) { return grain_for(cols); }

void reduce_sum_f32(const float* x, float* y, int64_t outer, int64_t len, int64_t inner, float scale) {
    if (outer == 0 || inner == 0) return;
    if (inner == 1) sum_rows(x, y, outer, len, scale);
    else sum_columns(x, y, outer, len, inner, scale);
}

void reduce_sum_backward_f32(const float* dy, float* dx, int64_t outer, int64_t len, int64_t inner, float scale) {
    if (outer == 0 || len == 0 || inner == 0) return;
    // Over the rows (o, l) of dx, walked in runs of rows that share o: no division per row.
    parallel_for(outer * len, [&](int64_t r0, int64_t r1) {
        int64_t o = r0 / len, l = r0 - o * len;
        for (int64_t r = r0; r < r1; l = 0, ++o) {
            const int64_t run = std::min(r1 - r, len - l);
            const float* d = dy + o * inner;
            float* out = dx + r * inner;
            if (inner == 1) {
                const float v = kiln_fmul(scale, d[0]);
                for (int64_t j = 0; j < run; ++j) out[j] = v;
            } else {
                for (int64_t j = 0; j < run; ++j)
                    for (int64_t i = 0; i < inner; ++i) out[j * inner + i] = kiln_fmul(scale, d[i]);
            }
            r += run;
        }
    }, grain_for(inner));
}

namespace {

// The index argmax_beats would pick in one row (the first NaN, else the first of the largest values, -0 and +0 equal),
// in two vectorizable passes instead of its one branchy pass: the row's maximum and whether it holds a NaN, then the
// first element equal to that maximum (or the first NaN). Cloned per ISA: 16384 rows of 1024 went from 72 to 13 ms.
KILN_VECTOR_CLONES
int64_t row_argmax(const float* xr, int64_t cols) {
    float m = xr[0];
    bool nan = false;
    for (int64_t c = 0; c < cols; ++c) {
        nan |= xr[c] != xr[c];
        m = xr[c] > m ? xr[c] : m;
    }
    for (int64_t c = 0; c < cols; ++c)
        if (nan ? xr[c] != xr[c] : xr[c] == m) return c;
    return 0;  // unreachable: m is one of the row's values
}

}  // namespace

void max_lastdim_f32(const float* x, float* y, int32_t* index, int64_t rows, int64_t cols) {
    parallel_for(rows, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const float* xr = x + r * cols;
            const int64_t best = row_argmax(xr, cols);
            y[r] = xr[best];
            index[r] = (int32_t)best;
        }
    }, grain_for(cols));
}

void max_lastdim_backward_f32(const float* dy, const int32_t* index, float* dx, int64_t rows, int64_t cols) {
    parallel_for(rows, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            float* dr = dx + r * cols;
            std::fill(dr, dr + cols, 0.0f);
            if (index[r] >= 0 && (int64_t)index[r] < cols) dr[index[r]] = dy[r];
        }
    }, grain_for(cols));
}

void sum_squares_f32(const float* x, int64_t n, float* out) {
    out[0] = (float)blocked_range_sum(n, [x](int64_t b, int64_t e) { return row_dot(x + b, x + b, e - b); });
}

void softmax_f32(const float* x, float* y, int64_t rows, int64_t cols, bool log) {
    parallel_for(rows, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) softmax_row(x + r * cols, y + r * cols, cols, log);
    }, grain_for(cols));
}

void softmax_backward_f32(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool log) {
    parallel_for(rows, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const float* yr = y + r * cols;
            const float* gr = dy + r * cols;
            float* dr = dx + r * cols;
            if (log) {
                const float sum = (float)row_sum(gr, cols);
                for (int64_t c = 0; c < cols; ++c) dr[c] = log_softmax_grad(yr[c], gr[c], sum);
            } else {
                const float dot = (float)row_dot(yr, gr, cols);
                for (int64_t c = 0; c < cols; ++c) dr[c] = softmax_grad(yr[c], gr[c], dot);
            }
        }
    }, grain_for(cols));
}

}  // namespace kiln::cpu

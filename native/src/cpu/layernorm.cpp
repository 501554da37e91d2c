// Layer norm on the CPU. Rows are independent, so the forward and dx are split across the pool by rows, each row
// computed whole by one thread. Row sums are in double over eight vector lanes added in a fixed tree, so every ISA
// clone gives the same bits. dgamma and dbeta sum over rows: each block of rows (blocks fixed by the shape, never by
// the thread count) accumulates its partial in double, and the partials are added in block order afterwards, so the
// result is the same for any thread count.
//
// The file is built for the x86-64 baseline; the row loops are cloned (cpu/simd.h's KILN_VECTOR_CLONES) for AVX-512
// and for AVX2 with FMA so they run on wide vectors. -ffp-contract=off holds in every clone, so no clone fuses an
// operation.
#include "layernorm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/layernorm_math.h"
#include "cpu/parallel.h"
#include "cpu/simd.h"

namespace kiln::cpu {

namespace {

constexpr int64_t kGrainElems = 1 << 14;      // elements per parallel_for chunk of row-wise work
constexpr int64_t kMaxParamBlocks = 64;       // row blocks of the dgamma/dbeta partials
constexpr int64_t kMinBlockRows = 8;          // partials take at most half the bytes of x
constexpr int64_t kMinBlockElems = 1 << 14;   // and each block is worth a task
constexpr int64_t kChunk = 256;               // floats of one staging buffer of the backward's row sums

// Eight double lanes as one GCC vector: each ISA clone lowers it to what it has (one zmm, two ymm, four xmm), with
// the same lane-by-lane IEEE operations, hence the same bits. The compiler does not vectorize a sum on its own
// without reassociating it; with explicit lanes nothing is reassociated.
typedef float F8 __attribute__((vector_size(32)));
typedef double D8 __attribute__((vector_size(64)));

// out = the eight floats at p (any alignment), widened. A macro, not a function: a vector passed by value between
// functions built for different ISAs would change the calling convention.
#define KILN_LOAD_WIDE(p, out)                        \
    do {                                              \
        F8 narrow_;                                   \
        std::memcpy(&narrow_, (p), sizeof(F8));       \
        (out) = __builtin_convertvector(narrow_, D8); \
    } while (0)

inline double lane_total(const D8& s) {
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

int64_t row_grain(int64_t cols) { return std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, cols)); }

// Mean and biased variance of one row (cols >= 1) in one pass: sums of d = x - x[0] and of d^2, in double, element i
// in lane i % 8. Shifting by an element of the row bounds the cancellation in var = E[d^2] - E[d]^2:
// (x[0] - mean)^2 <= cols var, so the relative error of var stays near cols * 1e-16 however large |mean| / std is.
KILN_VECTOR_CLONES
void row_moments(const float* x, int64_t cols, double* mean, double* var) {
    const double shift = x[0];
    D8 s1 = {}, s2 = {};
    int64_t i = 0;
    for (; i + 8 <= cols; i += 8) {
        D8 d;
        KILN_LOAD_WIDE(x + i, d);
        d -= shift;
        s1 += d;
        s2 += d * d;
    }
    for (int j = 0; i < cols; ++i, ++j) {
        const double d = (double)x[i] - shift;
        s1[j] += d;
        s2[j] += d * d;
    }
    const double m1 = lane_total(s1) / (double)cols;
    *mean = shift + m1;
    // Rounding can leave a small negative variance: clamp that to 0, but let NaN through (a row holding +inf or NaN
    // has none; std::max(0.0, NaN) would return 0 and give it a finite rstd, where the GPU's Welford gives NaN).
    const double v = lane_total(s2) / (double)cols - m1 * m1;
    *var = v < 0.0 ? 0.0 : v;
}

// y = ln_apply over one row; the four loops keep the null checks of gamma and beta out of the vector loop.
KILN_VECTOR_CLONES
void normalize_row(const float* x, const float* gamma, const float* beta, float* y, int64_t cols, float mean,
                   float rstd) {
    if (gamma && beta) {
        for (int64_t i = 0; i < cols; ++i) y[i] = ln_apply(x[i], mean, rstd, gamma[i], beta[i]);
    } else if (gamma) {
        for (int64_t i = 0; i < cols; ++i) y[i] = ln_apply(x[i], mean, rstd, gamma[i], 0.0f);
    } else if (beta) {
        for (int64_t i = 0; i < cols; ++i) y[i] = ln_apply(x[i], mean, rstd, 1.0f, beta[i]);
    } else {
        for (int64_t i = 0; i < cols; ++i) y[i] = ln_apply(x[i], mean, rstd, 1.0f, 0.0f);
    }
}

// The row sums of the backward, a = sum g and b = sum g xhat with g = dy gamma, in double, element i in lane i % 8.
// g and xhat are formed in float by the shared formulas (as ln_backward_dx forms them), a chunk at a time into
// buffers, then widened and summed.
KILN_VECTOR_CLONES
void row_grad_sums(const float* x, const float* dy, const float* gamma, int64_t cols, float mean, float rstd,
                   double* a, double* b) {
    float g[kChunk], xhat[kChunk];
    D8 sa = {}, sb = {};
    for (int64_t c0 = 0; c0 < cols; c0 += kChunk) {
        const int64_t len = std::min(kChunk, cols - c0);
        const float* xs = x + c0;
        const float* gs = dy + c0;
        if (gamma) {
            for (int64_t k = 0; k < len; ++k) g[k] = kiln_fmul(gs[k], gamma[c0 + k]);
        } else {
            for (int64_t k = 0; k < len; ++k) g[k] = gs[k];
        }
        for (int64_t k = 0; k < len; ++k) xhat[k] = ln_xhat(xs[k], mean, rstd);
        int64_t k = 0;
        for (; k + 8 <= len; k += 8) {
            D8 gw, xw;
            KILN_LOAD_WIDE(g + k, gw);
            KILN_LOAD_WIDE(xhat + k, xw);
            sa += gw;
            sb += gw * xw;
        }
        for (int j = 0; k < len; ++k, ++j) {  // only the last chunk has a tail: kChunk is a multiple of 8
            sa[j] += (double)g[k];
            sb[j] += (double)g[k] * (double)xhat[k];
        }
    }
    *a = lane_total(sa);
    *b = lane_total(sb);
}

KILN_VECTOR_CLONES
void row_dx(const float* x, const float* dy, const float* gamma, float* dx, int64_t cols, float mean, float rstd,
            float mean_g, float mean_gxhat) {
    if (gamma) {
        for (int64_t i = 0; i < cols; ++i) dx[i] = ln_backward_dx(x[i], dy[i], gamma[i], mean, rstd, mean_g, mean_gxhat);
    } else {
        for (int64_t i = 0; i < cols; ++i) dx[i] = ln_backward_dx(x[i], dy[i], 1.0f, mean, rstd, mean_g, mean_gxhat);
    }
}

// One row's terms of dgamma (dy xhat) and dbeta (dy) added into a block's double partials; either may be null.
KILN_VECTOR_CLONES
void add_param_terms(const float* x, const float* dy, int64_t cols, float mean, float rstd, double* pg, double* pb) {
    if (pg)
        for (int64_t i = 0; i < cols; ++i) pg[i] += (double)dy[i] * (double)ln_xhat(x[i], mean, rstd);
    if (pb)
        for (int64_t i = 0; i < cols; ++i) pb[i] += (double)dy[i];
}

// dx of one row: its sums, then the element-wise formula.
void backward_row(const float* x, const float* dy, const float* gamma, float mean, float rstd, float* dx,
                  int64_t cols) {
    double a, b;
    row_grad_sums(x, dy, gamma, cols, mean, rstd, &a, &b);
    row_dx(x, dy, gamma, dx, cols, mean, rstd, (float)(a / (double)cols), (float)(b / (double)cols));
}

}  // namespace

void layer_norm_f32(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                    int64_t rows, int64_t cols, float eps) {
    parallel_for(rows, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            double m, v;
            row_moments(x + r * cols, cols, &m, &v);
            const float mf = (float)m, rs = ln_rstd((float)v, eps);
            if (mean) mean[r] = mf;
            if (rstd) rstd[r] = rs;
            normalize_row(x + r * cols, gamma, beta, y + r * cols, cols, mf, rs);
        }
    }, row_grain(cols));
}

void layer_norm_backward_f32(const float* x, const float* dy, const float* gamma, const float* mean, const float* rstd,
                             float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols) {
    if (!dgamma && !dbeta) {
        parallel_for(rows, [&](int64_t r0, int64_t r1) {
            for (int64_t r = r0; r < r1; ++r)
                backward_row(x + r * cols, dy + r * cols, gamma, mean[r], rstd[r], dx + r * cols, cols);
        }, row_grain(cols));
        return;
    }
    // Row blocks: at most kMaxParamBlocks, each at least kMinBlockRows rows and kMinBlockElems elements.
    const int64_t min_rows = std::max(kMinBlockRows, (kMinBlockElems + cols - 1) / cols);
    const int64_t block_rows = std::max(min_rows, (rows + kMaxParamBlocks - 1) / kMaxParamBlocks);
    const int64_t blocks = (rows + block_rows - 1) / block_rows;
    // Allocated here, before any task runs, so a bad_alloc reaches the entry's guard.
    std::vector<double> part_g(dgamma ? (size_t)(blocks * cols) : 0), part_b(dbeta ? (size_t)(blocks * cols) : 0);
    parallel_for(blocks, [&](int64_t b0, int64_t b1) {
        for (int64_t blk = b0; blk < b1; ++blk) {
            double* pg = dgamma ? part_g.data() + blk * cols : nullptr;
            double* pb = dbeta ? part_b.data() + blk * cols : nullptr;
            const int64_t r_end = std::min(rows, (blk + 1) * block_rows);
            // The parameter terms of a row are added before its dx is written: dx never feeds them, even if it
            // overwrote dy.
            for (int64_t r = blk * block_rows; r < r_end; ++r) {
                add_param_terms(x + r * cols, dy + r * cols, cols, mean[r], rstd[r], pg, pb);
                if (dx) backward_row(x + r * cols, dy + r * cols, gamma, mean[r], rstd[r], dx + r * cols, cols);
            }
        }
    }, 1);
    parallel_for(cols, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) {
            double sg = 0.0, sb = 0.0;
            for (int64_t blk = 0; blk < blocks; ++blk) {  // block order: the same bits for every thread count
                if (dgamma) sg += part_g[(size_t)(blk * cols + c)];
                if (dbeta) sb += part_b[(size_t)(blk * cols + c)];
            }
            if (dgamma) dgamma[c] = (float)sg;
            if (dbeta) dbeta[c] = (float)sb;
        }
    }, 1024);
}

}  // namespace kiln::cpu

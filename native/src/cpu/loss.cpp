// Losses on the CPU: per-element terms from kernels/common/softmax_math.h (shared with kernels/loss.cu), means summed
// in double by blocked_sum (native/src/cpu/reduce_rows.h), so a loss is deterministic whatever the thread count.
#include "loss.h"

#include "common/softmax_math.h"
#include "cpu/loss_simd.h"
#include "cpu/parallel.h"
#include "cpu/reduce_rows.h"
#include "cpu/simd.h"

namespace kiln::cpu {

namespace {

constexpr int64_t kGrainElems = 1 << 14;

// loss (1) = mean over i of term(x[i], t[i]) for x, t (n): BCE with logits and MSE.
template <typename Term>
void mean_loss(const float* x, const float* t, float* loss, int64_t n, Term term) {
    const double total = blocked_sum(n, [x, t, term](int64_t i) { return (double)term(x[i], t[i]); });
    loss[0] = mean_of((float)total, n);
}

// dx (n) = grad(x[i], t[i], dloss / n): their backwards. Term and Grad are lambdas, so each loop is its own
// instantiation with the math inlined, as when it was written out per loss.
template <typename Grad>
void pointwise_grad(const float* x, const float* t, const float* dloss, float* dx, int64_t n, Grad grad) {
    const float scale = loss_grad_scale(dloss[0], n);
    parallel_for(n, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) dx[i] = grad(x[i], t[i], scale);
    }, kGrainElems);
}

}  // namespace

void cross_entropy_f32(const float* logits, const int32_t* labels, float* loss, float* lse, int64_t rows,
                       int64_t cols) {
    parallel_for(rows, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const float* xr = logits + r * cols;
            const float m = row_max(xr, cols);
            lse[r] = logsumexp_of(m, (float)row_sum_exp(xr, cols, m));
        }
    }, row_grain(cols));
    const double total = blocked_sum(rows, [&](int64_t r) {
        return (double)cross_entropy_row(lse[r], logits + r * cols, labels[r], cols);
    });
    loss[0] = mean_of((float)total, rows);
}

void cross_entropy_backward_f32(const float* logits, const int32_t* labels, const float* lse, const float* dloss,
                                float* dlogits, int64_t rows, int64_t cols) {
    const float scale = loss_grad_scale(dloss[0], rows);
    const RowSpans* rows_vec = row_spans();
    parallel_for(rows, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const float* xr = logits + r * cols;
            float* dr = dlogits + r * cols;
            const int32_t label = labels[r];
            if (!label_valid(label, cols)) {
                for (int64_t c = 0; c < cols; ++c) dr[c] = kiln_qnan();
                continue;
            }
            const float l = lse[r];
            if (rows_vec) {
                rows_vec->cross_entropy_grad_row(xr, cols, l, label, scale, dr);
                continue;
            }
            for (int64_t c = 0; c < cols; ++c) dr[c] = cross_entropy_grad(xr[c], l, c == label, scale);
        }
    }, row_grain(cols));
}

const BceSpans* bce_spans() { return spans_for_isa(avx512::kBceSpans, avx2::kBceSpans); }

void bce_with_logits_f32(const float* x, const float* t, float* loss, int64_t n) {
    if (const BceSpans* spans = bce_spans()) {
        const double total =
            blocked_range_sum(n, [x, t, spans](int64_t b, int64_t e) { return spans->sum(x + b, t + b, e - b); });
        loss[0] = mean_of((float)total, n);
        return;
    }
    mean_loss(x, t, loss, n, [](float xi, float ti) { return bce_logits_term(xi, ti); });
}

void bce_with_logits_backward_f32(const float* x, const float* t, const float* dloss, float* dx, int64_t n) {
    if (const BceSpans* spans = bce_spans()) {
        const float scale = loss_grad_scale(dloss[0], n);
        parallel_for(n, [&](int64_t i0, int64_t i1) { spans->grad(x + i0, t + i0, scale, dx + i0, i1 - i0); },
                     kGrainElems);
        return;
    }
    pointwise_grad(x, t, dloss, dx, n, [](float xi, float ti, float s) { return bce_logits_grad(xi, ti, s); });
}

void mse_f32(const float* x, const float* t, float* loss, int64_t n) {
    mean_loss(x, t, loss, n, [](float xi, float ti) { return mse_term(xi, ti); });
}

void mse_backward_f32(const float* x, const float* t, const float* dloss, float* dx, int64_t n) {
    pointwise_grad(x, t, dloss, dx, n, [](float xi, float ti, float s) { return mse_grad(xi, ti, s); });
}

}  // namespace kiln::cpu

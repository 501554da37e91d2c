// C ABI entries for the losses: validation, then the backend of the context's device. Losses and dloss are 1-element
// buffers on the context's device; nothing here reads them (the backward kernels read dloss[0] themselves).
#include <initializer_list>
#include <utility>

#include "core/context.h"
#include "core/gpu.h"
#include "cpu/loss.h"
#if KILN_WITH_CUDA
#include "loss.h"
#endif

using kiln::fail;

namespace {

int64_t checked_n(const char* op, int64_t n) {
    if (n < 0) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'n' must be >= 0, got %lld", op, (long long)n);
    return n;
}

// rows >= 0, cols >= 1; returns rows * cols.
int64_t checked_rows_cols(const char* op, int64_t rows, int64_t cols) {
    if (rows < 0)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'rows' must be >= 0, got %lld (cols=%lld)", op, (long long)rows,
             (long long)cols);
    if (cols < 1)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'cols' must be >= 1, got %lld (rows=%lld)", op, (long long)cols,
             (long long)rows);
    int64_t n = 0;
    if (__builtin_mul_overflow(rows, cols, &n))
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: rows * cols overflows int64 (rows=%lld, cols=%lld)", op, (long long)rows,
             (long long)cols);
    return n;
}

}  // namespace

extern "C" {

kiln_status kiln_cross_entropy_f32(kiln_context* ctx, const float* logits, const int32_t* labels, float* loss,
                                   float* lse, int64_t rows, int64_t cols) {
    const char* op = "kiln_cross_entropy_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t n = checked_rows_cols(op, rows, cols);
        kiln::require_data(logits, (size_t)n, op, "logits");
        kiln::require_data(labels, (size_t)rows, op, "labels");
        kiln::require_data(loss, 1, op, "loss");
        kiln::require_data(lse, (size_t)rows, op, "lse");
        if (kiln::on_cpu(c)) return kiln::cpu::cross_entropy_f32(logits, labels, loss, lse, rows, cols);
        KILN_CUDA_RUN(op, kiln::cuda::cross_entropy_f32(KILN_STREAM(c), logits, labels, loss, lse, rows, cols));
    });
}

kiln_status kiln_cross_entropy_backward_f32(kiln_context* ctx, const float* logits, const int32_t* labels,
                                            const float* lse, const float* dloss, float* dlogits, int64_t rows,
                                            int64_t cols) {
    const char* op = "kiln_cross_entropy_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t n = checked_rows_cols(op, rows, cols);
        if (!dlogits) return;  // gradient not wanted (ops: conventions)
        kiln::require_data(logits, (size_t)n, op, "logits");
        kiln::require_data(labels, (size_t)rows, op, "labels");
        kiln::require_data(lse, (size_t)rows, op, "lse");
        kiln::require_data(dloss, n > 0 ? 1 : 0, op, "dloss");
        if (kiln::on_cpu(c))
            return kiln::cpu::cross_entropy_backward_f32(logits, labels, lse, dloss, dlogits, rows, cols);
        KILN_CUDA_RUN(op, kiln::cuda::cross_entropy_backward_f32(KILN_STREAM(c), logits, labels, lse, dloss, dlogits,
                                                                 rows, cols));
    });
}

kiln_status kiln_bce_with_logits_f32(kiln_context* ctx, const float* x, const float* t, float* loss, int64_t n) {
    const char* op = "kiln_bce_with_logits_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        checked_n(op, n);
        kiln::require_data(x, (size_t)n, op, "x");
        kiln::require_data(t, (size_t)n, op, "t");
        kiln::require_data(loss, 1, op, "loss");
        if (kiln::on_cpu(c)) return kiln::cpu::bce_with_logits_f32(x, t, loss, n);
        KILN_CUDA_RUN(op, kiln::cuda::bce_with_logits_f32(KILN_STREAM(c), x, t, loss, n));
    });
}

kiln_status kiln_bce_with_logits_backward_f32(kiln_context* ctx, const float* x, const float* t, const float* dloss,
                                              float* dx, int64_t n) {
    const char* op = "kiln_bce_with_logits_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        checked_n(op, n);
        if (!dx) return;  // gradient not wanted
        kiln::require_data(x, (size_t)n, op, "x");
        kiln::require_data(t, (size_t)n, op, "t");
        kiln::require_data(dloss, n > 0 ? 1 : 0, op, "dloss");
        if (kiln::on_cpu(c)) return kiln::cpu::bce_with_logits_backward_f32(x, t, dloss, dx, n);
        KILN_CUDA_RUN(op, kiln::cuda::bce_with_logits_backward_f32(KILN_STREAM(c), x, t, dloss, dx, n));
    });
}

kiln_status kiln_mse_f32(kiln_context* ctx, const float* x, const float* t, float* loss, int64_t n) {
    const char* op = "kiln_mse_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        checked_n(op, n);
        kiln::require_data(x, (size_t)n, op, "x");
        kiln::require_data(t, (size_t)n, op, "t");
        kiln::require_data(loss, 1, op, "loss");
        if (kiln::on_cpu(c)) return kiln::cpu::mse_f32(x, t, loss, n);
        KILN_CUDA_RUN(op, kiln::cuda::mse_f32(KILN_STREAM(c), x, t, loss, n));
    });
}

kiln_status kiln_mse_backward_f32(kiln_context* ctx, const float* x, const float* t, const float* dloss, float* dx,
                                  int64_t n) {
    const char* op = "kiln_mse_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        checked_n(op, n);
        if (!dx) return;  // gradient not wanted
        kiln::require_data(x, (size_t)n, op, "x");
        kiln::require_data(t, (size_t)n, op, "t");
        kiln::require_data(dloss, n > 0 ? 1 : 0, op, "dloss");
        if (kiln::on_cpu(c)) return kiln::cpu::mse_backward_f32(x, t, dloss, dx, n);
        KILN_CUDA_RUN(op, kiln::cuda::mse_backward_f32(KILN_STREAM(c), x, t, dloss, dx, n));
    });
}

}  // extern "C"

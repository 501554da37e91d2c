// C ABI entries for reductions and softmax: validation, then the backend of the context's device.
#include <climits>
#include <initializer_list>
#include <utility>

#include "core/context.h"
#include "core/gpu.h"
#include "cpu/reduce.h"
#if KILN_WITH_CUDA
#include "reduce.h"
#endif

using kiln::fail;

namespace {

// Each size >= 0; returns the product, refusing one that overflows int64.
int64_t checked_product(const char* op, const char* what, std::initializer_list<std::pair<const char*, int64_t>> dims) {
    for (const auto& [name, v] : dims)
        if (v < 0) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument '%s' must be >= 0, got %lld", op, name, (long long)v);
    int64_t n = 1;
    for (const auto& [name, v] : dims) {
        if (__builtin_mul_overflow(n, v, &n))
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: %s overflows int64 (argument '%s' = %lld)", op, what, name,
                 (long long)v);
    }
    return n;
}

// rows >= 0, 1 <= cols (<= max_cols); returns rows * cols.
int64_t checked_rows_cols(const char* op, int64_t rows, int64_t cols, int64_t max_cols = INT64_MAX) {
    if (cols < 1)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'cols' must be >= 1, got %lld (rows=%lld)", op, (long long)cols,
             (long long)rows);
    if (cols > max_cols)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'cols' must be <= %lld (the index is int32), got %lld", op,
             (long long)max_cols, (long long)cols);
    return checked_product(op, "rows * cols", {{"rows", rows}, {"cols", cols}});
}

}  // namespace

extern "C" {

kiln_status kiln_reduce_sum_f32(kiln_context* ctx, const float* x, float* y, int64_t outer, int64_t len, int64_t inner,
                                float scale) {
    const char* op = "kiln_reduce_sum_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t nx =
            checked_product(op, "outer * len * inner", {{"outer", outer}, {"len", len}, {"inner", inner}});
        const int64_t ny = checked_product(op, "outer * inner", {{"outer", outer}, {"inner", inner}});
        kiln::require_data(x, (size_t)nx, op, "x");
        kiln::require_data(y, (size_t)ny, op, "y");
        if (kiln::on_cpu(c)) return kiln::cpu::reduce_sum_f32(x, y, outer, len, inner, scale);
        KILN_CUDA_RUN(op, kiln::cuda::reduce_sum_f32(KILN_STREAM(c), x, y, outer, len, inner, scale));
    });
}

kiln_status kiln_reduce_sum_backward_f32(kiln_context* ctx, const float* dy, float* dx, int64_t outer, int64_t len,
                                         int64_t inner, float scale) {
    const char* op = "kiln_reduce_sum_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t nx =
            checked_product(op, "outer * len * inner", {{"outer", outer}, {"len", len}, {"inner", inner}});
        const int64_t ny = checked_product(op, "outer * inner", {{"outer", outer}, {"inner", inner}});
        if (!dx) return;  // gradient not wanted (ops: conventions)
        kiln::require_data(dy, (size_t)(nx > 0 ? ny : 0), op, "dy");
        if (kiln::on_cpu(c)) return kiln::cpu::reduce_sum_backward_f32(dy, dx, outer, len, inner, scale);
        KILN_CUDA_RUN(op, kiln::cuda::reduce_sum_backward_f32(KILN_STREAM(c), dy, dx, outer, len, inner, scale));
    });
}

kiln_status kiln_max_lastdim_f32(kiln_context* ctx, const float* x, float* y, int32_t* index, int64_t rows,
                                 int64_t cols) {
    const char* op = "kiln_max_lastdim_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t n = checked_rows_cols(op, rows, cols, INT32_MAX);
        kiln::require_data(x, (size_t)n, op, "x");
        kiln::require_data(y, (size_t)rows, op, "y");
        kiln::require_data(index, (size_t)rows, op, "index");
        if (kiln::on_cpu(c)) return kiln::cpu::max_lastdim_f32(x, y, index, rows, cols);
        KILN_CUDA_RUN(op, kiln::cuda::max_lastdim_f32(KILN_STREAM(c), x, y, index, rows, cols));
    });
}

kiln_status kiln_max_lastdim_backward_f32(kiln_context* ctx, const float* dy, const int32_t* index, float* dx,
                                          int64_t rows, int64_t cols) {
    const char* op = "kiln_max_lastdim_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        checked_rows_cols(op, rows, cols, INT32_MAX);
        if (!dx) return;  // gradient not wanted
        kiln::require_data(dy, (size_t)rows, op, "dy");
        kiln::require_data(index, (size_t)rows, op, "index");
        if (kiln::on_cpu(c)) return kiln::cpu::max_lastdim_backward_f32(dy, index, dx, rows, cols);
        KILN_CUDA_RUN(op, kiln::cuda::max_lastdim_backward_f32(KILN_STREAM(c), dy, index, dx, rows, cols));
    });
}

kiln_status kiln_sum_squares_f32(kiln_context* ctx, const float* x, int64_t n, float* out) {
    const char* op = "kiln_sum_squares_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        checked_product(op, "n", {{"n", n}});
        kiln::require_data(x, (size_t)n, op, "x");
        kiln::require_data(out, 1, op, "out");
        if (kiln::on_cpu(c)) return kiln::cpu::sum_squares_f32(x, n, out);
        KILN_CUDA_RUN(op, kiln::cuda::sum_squares_f32(KILN_STREAM(c), x, n, out));
    });
}

kiln_status kiln_softmax_f32(kiln_context* ctx, const float* x, float* y, int64_t rows, int64_t cols, int32_t log) {
    const char* op = "kiln_softmax_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t n = checked_rows_cols(op, rows, cols);
        kiln::require_data(x, (size_t)n, op, "x");
        kiln::require_data(y, (size_t)n, op, "y");
        if (kiln::on_cpu(c)) return kiln::cpu::softmax_f32(x, y, rows, cols, log != 0);
        KILN_CUDA_RUN(op, kiln::cuda::softmax_f32(KILN_STREAM(c), x, y, rows, cols, log != 0));
    });
}

kiln_status kiln_softmax_backward_f32(kiln_context* ctx, const float* y, const float* dy, float* dx, int64_t rows,
                                      int64_t cols, int32_t log) {
    const char* op = "kiln_softmax_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t n = checked_rows_cols(op, rows, cols);
        if (!dx) return;  // gradient not wanted
        kiln::require_data(y, (size_t)n, op, "y");
        kiln::require_data(dy, (size_t)n, op, "dy");
        if (kiln::on_cpu(c)) return kiln::cpu::softmax_backward_f32(y, dy, dx, rows, cols, log != 0);
        KILN_CUDA_RUN(op, kiln::cuda::softmax_backward_f32(KILN_STREAM(c), y, dy, dx, rows, cols, log != 0));
    });
}

}  // extern "C"

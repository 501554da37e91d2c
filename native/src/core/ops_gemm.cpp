// C ABI entry for GEMM: validates the descriptor (sizes, leading dimensions, batch strides), then runs the CPU or
// CUDA SGEMM of the context's device.
#include "core/context.h"
#include "core/gpu.h"
#include "cpu/gemm.h"
#if KILN_WITH_CUDA
#include "gemm.h"
#endif

using kiln::fail;

namespace {

// A stored (rows, cols) row-major operand with leading dimension ld needs ld >= cols (and ld >= 1).
void check_ld(const char* op, const char* arg, int64_t ld, int64_t rows, int64_t cols) {
    const int64_t need = cols > 1 ? cols : 1;
    if (ld < need) {
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: leading dimension of '%s' is %lld but its stored shape (%lld, %lld) needs >= %lld",
             op, arg, (long long)ld, (long long)rows, (long long)cols, (long long)need);
    }
}

void validate(const char* op, const kiln_gemm_desc* d, const float* a, const float* b, const float* c) {
    if (!d) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc' is null", op);
    if (d->m < 0 || d->n < 0 || d->k < 0 || d->batch < 1) {
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: needs m, n, k >= 0 and batch >= 1, got m=%lld n=%lld k=%lld batch=%lld", op,
             (long long)d->m, (long long)d->n, (long long)d->k, (long long)d->batch);
    }
    // Stored shapes: A is (m, k) or (k, m) when transposed; B is (k, n) or (n, k); C is (m, n).
    const int64_t a_rows = d->trans_a ? d->k : d->m, a_cols = d->trans_a ? d->m : d->k;
    const int64_t b_rows = d->trans_b ? d->n : d->k, b_cols = d->trans_b ? d->k : d->n;
    check_ld(op, "a", d->lda, a_rows, a_cols);
    check_ld(op, "b", d->ldb, b_rows, b_cols);
    check_ld(op, "c", d->ldc, d->m, d->n);
    const bool reads_ab = d->m > 0 && d->n > 0 && d->k > 0;
    kiln::require_data(a, reads_ab ? 1 : 0, op, "a");
    kiln::require_data(b, reads_ab ? 1 : 0, op, "b");
    kiln::require_data(c, (size_t)(d->m * d->n), op, "c");
    if (d->batch > 1) {
        // Output matrices must not overlap, or the batch would race with itself.
        const int64_t c_span = (d->m - 1) * d->ldc + d->n;
        if (d->m > 0 && d->n > 0 && d->stride_c < c_span) {
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: stride_c=%lld makes the %lld output matrices (%lld, %lld) with ldc=%lld overlap",
                 op, (long long)d->stride_c, (long long)d->batch, (long long)d->m, (long long)d->n, (long long)d->ldc);
        }
        if (d->stride_a < 0 || d->stride_b < 0) {
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: batch strides must be >= 0 (0 shares one matrix), got stride_a=%lld stride_b=%lld",
                 op, (long long)d->stride_a, (long long)d->stride_b);
        }
    }
}

}  // namespace

extern "C" kiln_status kiln_gemm_f32(kiln_context* ctx, const kiln_gemm_desc* desc, const float* a, const float* b,
                                     float* c) {
    const char* op = "kiln_gemm_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        validate(op, desc, a, b, c);
        const kiln_gemm_desc& d = *desc;
        if (kiln::on_cpu(cx)) {
            if (d.batch == 1) {
                kiln::cpu::sgemm(d.trans_a, d.trans_b, d.m, d.n, d.k, d.alpha, a, d.lda, b, d.ldb, d.beta, c, d.ldc);
            } else {
                kiln::cpu::sgemm_strided_batched(d.trans_a, d.trans_b, d.m, d.n, d.k, d.alpha, a, d.lda, d.stride_a, b,
                                                 d.ldb, d.stride_b, d.beta, c, d.ldc, d.stride_c, d.batch);
            }
            return;
        }
        KILN_CUDA_RUN(op, d.batch == 1
                              ? kiln::cuda::sgemm(KILN_STREAM(cx), d.trans_a, d.trans_b, d.m, d.n, d.k, d.alpha, a,
                                                  d.lda, b, d.ldb, d.beta, c, d.ldc)
                              : kiln::cuda::sgemm_strided_batched(KILN_STREAM(cx), d.trans_a, d.trans_b, d.m, d.n, d.k,
                                                                  d.alpha, a, d.lda, d.stride_a, b, d.ldb, d.stride_b,
                                                                  d.beta, c, d.ldc, d.stride_c, d.batch));
    });
}

// C ABI entry for GEMM: validates the descriptor (sizes, leading dimensions, every operand's extent and the batch
// span, all in checked int64), then runs the SGEMM of the context's device.
#include "core/checked.h"
#include "core/dispatch.h"
#include "gemm.h"

using kiln::fail;

namespace {

// One row-major operand as stored: (rows, cols) with leading dimension ld, `batch` of them `stride` apart.
struct Operand {
    const char* name;    // "a", "b", "c"
    const char* ld_name;  // "lda", ...
    const char* stride_name;
    int64_t rows, cols, ld, stride;
};

// ld >= cols (and >= 1), and the elements the operand spans over the whole batch fit int64, as bytes too; returns
// those bytes.
int64_t check_operand(const char* op, const Operand& x, int64_t batch) {
    const int64_t need = x.cols > 1 ? x.cols : 1;
    if (x.ld < need)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: argument '%s' (the leading dimension of '%s') is %lld but its stored shape (%lld, %lld) needs "
             ">= %lld",
             op, x.ld_name, x.name, (long long)x.ld, (long long)x.rows, (long long)x.cols, (long long)need);
    const int64_t one = kiln::checked_span(op, x.name, {"rows", x.rows}, {x.ld_name, x.ld}, {"cols", x.cols});
    const int64_t all = batch > 1 ? kiln::checked_span(op, x.name, {"batch", batch}, {x.stride_name, x.stride},
                                                       {"elements of one matrix", one})
                                  : one;
    return kiln::checked_bytes(op, x.name, all, (int64_t)sizeof(float));
}

void validate(const char* op, const kiln_gemm_desc* d, const float* a, const float* b, const float* c) {
    if (!d) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc' is null", op);
    if (d->m < 0 || d->n < 0 || d->k < 0 || d->batch < 1)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: needs m, n, k >= 0 and batch >= 1, got m=%lld n=%lld k=%lld batch=%lld",
             op, (long long)d->m, (long long)d->n, (long long)d->k, (long long)d->batch);
    if (d->batch > 1 && (d->stride_a < 0 || d->stride_b < 0))
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: batch strides must be >= 0 (0 shares one matrix), got stride_a=%lld stride_b=%lld", op,
             (long long)d->stride_a, (long long)d->stride_b);
    // Stored shapes: A is (m, k) or (k, m) when transposed; B is (k, n) or (n, k); C is (m, n).
    const Operand oa{"a", "lda", "stride_a", d->trans_a ? d->k : d->m, d->trans_a ? d->m : d->k, d->lda, d->stride_a};
    const Operand ob{"b", "ldb", "stride_b", d->trans_b ? d->n : d->k, d->trans_b ? d->k : d->n, d->ldb, d->stride_b};
    const Operand oc{"c", "ldc", "stride_c", d->m, d->n, d->ldc, d->stride_c};
    const int64_t a_bytes = check_operand(op, oa, d->batch), b_bytes = check_operand(op, ob, d->batch),
                  c_bytes = check_operand(op, oc, d->batch);
    const int64_t mn = kiln::checked_product(op, "c", {{"m", d->m}, {"n", d->n}});
    const bool reads_ab = mn > 0 && d->k > 0;
    kiln::require_data(a, reads_ab ? 1 : 0, op, "a");
    kiln::require_data(b, reads_ab ? 1 : 0, op, "b");
    kiln::require_data(c, (size_t)mn, op, "c");
    // C is written tile by tile while A and B are still being read (in place, on the CPU, for A): an overlap would
    // feed results back in as operands.
    if (reads_ab) {
        kiln::check_disjoint(op, "c", c, c_bytes, "a", a, a_bytes);
        kiln::check_disjoint(op, "c", c, c_bytes, "b", b, b_bytes);
    }
    // Output matrices must not overlap, or the batch would race with itself.
    const int64_t c_span = kiln::checked_span(op, "c", {"m", d->m}, {"ldc", d->ldc}, {"n", d->n});
    if (d->batch > 1 && c_span > 0 && d->stride_c < c_span)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: stride_c=%lld makes the %lld output matrices (%lld, %lld) with ldc=%lld overlap", op,
             (long long)d->stride_c, (long long)d->batch, (long long)d->m, (long long)d->n, (long long)d->ldc);
}

}  // namespace

extern "C" kiln_status kiln_gemm_f32(kiln_context* ctx, const kiln_gemm_desc* desc, const float* a, const float* b,
                                     float* c) {
    const char* op = "kiln_gemm_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        validate(op, desc, a, b, c);
        kiln::dispatch(cx, op, KILN_BACKENDS(gemm_f32), *desc, a, b, c);
    });
}

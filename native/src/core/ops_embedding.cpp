// C ABI entries for the embedding family (lookup forward and backward, sinusoidal positions): validation, then the
// backend of the context's device.
#include <cstdint>

#include "core/checked.h"
#include "core/dispatch.h"
#include "embedding.h"

using kiln::fail;

namespace {

struct Sizes {
    int64_t rows;    // n * dim: y or dy
    int64_t table;   // vocab * dim: weight or dweight
};

Sizes check_sizes(const char* op, const char* rows_name, const char* table_name, int64_t n, int64_t vocab,
                  int64_t dim) {
    if (n < 0 || vocab < 0 || dim < 0)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: needs n, vocab, dim >= 0, got n=%lld vocab=%lld dim=%lld", op,
             (long long)n, (long long)vocab, (long long)dim);
    Sizes s;
    s.rows = kiln::checked_product(op, rows_name, {{"n", n}, {"dim", dim}});
    s.table = kiln::checked_product(op, table_name, {{"vocab", vocab}, {"dim", dim}});
    kiln::checked_product(op, "indices", {{"n", n}});
    return s;
}

}  // namespace

extern "C" {

kiln_status kiln_embedding_f32(kiln_context* ctx, const int32_t* indices, const float* weight, float* y, int64_t n,
                               int64_t vocab, int64_t dim) {
    const char* op = "kiln_embedding_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        const Sizes s = check_sizes(op, "y", "weight", n, vocab, dim);
        // With no y elements nothing is read: indices and weight may then be NULL.
        kiln::require_all(op, {{indices, s.rows > 0 ? n : 0, "indices"}, {weight, s.rows > 0 ? s.table : 0, "weight"},
                               {y, s.rows, "y"}});
        kiln::check_outputs_apart(op, {{"y", y, s.rows * 4}},
                                  {{"indices", indices, n * 4}, {"weight", weight, s.table * 4}});
        if (s.rows == 0) return;
        kiln::dispatch(cx, op, KILN_BACKENDS(embedding_f32), indices, weight, y, n, vocab, dim);
    });
}

kiln_status kiln_embedding_backward_f32(kiln_context* ctx, const int32_t* indices, const float* dy, float* dweight,
                                        int64_t n, int64_t vocab, int64_t dim) {
    const char* op = "kiln_embedding_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        const Sizes s = check_sizes(op, "dy", "dweight", n, vocab, dim);
        // The GPU sorts positions as 32-bit numbers; one limit for every backend keeps a call valid everywhere.
        if (n >= ((int64_t)1 << 31))
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: needs n < 2^31 positions, got n=%lld", op, (long long)n);
        kiln::require_all(op, {{indices, s.table > 0 ? n : 0, "indices"}, {dy, s.table > 0 ? s.rows : 0, "dy"},
                               {dweight, s.table, "dweight"}});
        kiln::check_outputs_apart(op, {{"dweight", dweight, s.table * 4}},
                                  {{"indices", indices, n * 4}, {"dy", dy, s.rows * 4}});
        if (s.table == 0) return;  // n == 0 still writes the zeros of dweight
        kiln::dispatch(cx, op, KILN_BACKENDS(embedding_backward_f32), indices, dy, dweight, n, vocab, dim);
    });
}

kiln_status kiln_sinusoidal_positions_f32(kiln_context* ctx, float* y, int64_t len, int64_t dim, int64_t start) {
    const char* op = "kiln_sinusoidal_positions_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        if (len < 0 || dim < 0 || start < 0)
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: needs len, dim, start >= 0, got len=%lld dim=%lld start=%lld", op,
                 (long long)len, (long long)dim, (long long)start);
        if (start > INT64_MAX - len)
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: the last position start + len - 1 overflows int64 (start=%lld len=%lld)",
                 op, (long long)start, (long long)len);
        const int64_t total = kiln::checked_product(op, "y", {{"len", len}, {"dim", dim}});
        kiln::require_data(y, (size_t)total, op, "y");
        if (total == 0) return;
        kiln::dispatch(cx, op, KILN_BACKENDS(sinusoidal_positions_f32), y, len, dim, start);
    });
}

}  // extern "C"

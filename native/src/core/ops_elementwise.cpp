// C ABI entries for elementwise ops (fill, binary ops with broadcasting, activations, scale, axpy, the fused bias +
// GELU): validation, then the backend of the context's device.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/checked.h"
#include "core/dispatch.h"
#include "elementwise.h"

using kiln::fail;

namespace {

const char* const kBinaryNames[] = {"add", "sub", "mul", "div"};

// outer * inner elements, checked for overflow.
int64_t checked_numel(const char* op, int64_t outer, int64_t inner) {
    return kiln::checked_product(op, "y", {{"outer", outer}, {"inner", inner}});
}

// x (rows, cols) and a bias (cols) over its last dimension: rows * cols elements, checked; the bias on its own too
// (its gradient is written even when rows == 0).
int64_t checked_rows_cols(const char* op, int64_t rows, int64_t cols) {
    const int64_t n = kiln::checked_product(op, "x", {{"rows", rows}, {"cols", cols}});
    kiln::checked_product(op, "bias", {{"cols", cols}});
    return n;
}

int checked_binary_op(const char* op, kiln_binary_op arg) {
    const int bop = static_cast<int>(arg);
    if (bop < KILN_ADD || bop > KILN_DIV)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: 'op' must be one of 0 (add), 1 (sub), 2 (mul), 3 (div), got %d", op, bop);
    return bop;
}

// A stride is inner (a full (outer, inner) operand) or 0 (an (inner) operand broadcast over outer).
void check_stride(const char* op, const char* arg, int64_t stride, int64_t outer, int64_t inner) {
    if (stride != 0 && stride != inner)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: '%s' must be 0 (broadcast (inner)) or inner=%lld (full (outer, inner)), got %lld (outer=%lld)", op,
             arg, (long long)inner, (long long)stride, (long long)outer);
}

// Checks both strides against (outer, inner) and returns outer * inner, checked.
int64_t checked_strides(const char* op, int64_t stride_a, int64_t stride_b, int64_t outer, int64_t inner) {
    const int64_t n = checked_numel(op, outer, inner);
    // A broadcast operand (and its gradient, written even when outer == 0) is (inner) on its own.
    kiln::checked_product(op, "a broadcast operand", {{"inner", inner}});
    check_stride(op, "stride_a", stride_a, outer, inner);
    check_stride(op, "stride_b", stride_b, outer, inner);
    return n;
}

// Elements an operand with this stride holds: inner when broadcast, outer * inner when full.
int64_t operand_count(int64_t stride, int64_t numel, int64_t inner) { return stride == 0 ? inner : numel; }

// y (n elements) against one binary operand: a full operand may be y itself (in place: each element is read before
// it is written) or apart; a broadcast operand over several rows is read by every row, so y must not touch it at all
// (over one row it is a full operand).
void check_output_against_operand(const char* op, const float* y, int64_t n, const char* name, const float* operand,
                                  int64_t stride, int64_t inner) {
    if (stride == 0 && n > inner) {
        kiln::check_disjoint(op, "y", y, n * 4, name, operand, inner * 4);
    } else {
        kiln::check_same_or_disjoint(op, "y", y, n * 4, name, operand, n * 4);
    }
}

int checked_activation(const char* op, kiln_activation arg) {
    const int act = static_cast<int>(arg);
    if (act < KILN_RELU || act > KILN_GELU)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: 'act' must be one of 0 (relu), 1 (leaky_relu), 2 (tanh), 3 (sigmoid), 4 (gelu), got %d", op, act);
    return act;
}

// scale and axpy: y (n) from x (n) and alpha, the same checks; only the backend and its argument order differ.
template <class Run>
kiln_status unary_entry(const char* op, kiln_context* ctx, const float* x, float* y, int64_t n, Run&& run) {
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t bytes = kiln::checked_bytes(op, "x", kiln::checked_product(op, "x", {{"n", n}}), 4);
        kiln::require_all(op, {{x, n, "x"}, {y, n, "y"}});
        kiln::check_same_or_disjoint(op, "y", y, bytes, "x", x, bytes);
        run(c);
    });
}

}  // namespace

extern "C" {

kiln_status kiln_fill_f32(kiln_context* ctx, float* y, size_t n, float value) {
    const char* op = "kiln_fill_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        kiln::checked_count(op, "y", "n", n);
        kiln::require_data(y, n, op, "y");
        kiln::dispatch(c, op, KILN_BACKENDS(fill_f32), y, n, value);
    });
}

kiln_status kiln_binary_f32(kiln_context* ctx, kiln_binary_op op_arg, const float* a, int64_t stride_a, const float* b,
                            int64_t stride_b, float* y, int64_t outer, int64_t inner) {
    const char* op = "kiln_binary_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int bop = checked_binary_op(op, op_arg);
        const int64_t n = checked_strides(op, stride_a, stride_b, outer, inner);
        kiln::require_all(op, {{a, n > 0 ? operand_count(stride_a, n, inner) : 0, "a"},
                               {b, n > 0 ? operand_count(stride_b, n, inner) : 0, "b"}, {y, n, "y"}});
        if (n > 0) {
            check_output_against_operand(op, y, n, "a", a, stride_a, inner);
            check_output_against_operand(op, y, n, "b", b, stride_b, inner);
        }
        kiln::dispatch(c, op, KILN_BACKENDS(binary_f32), bop, a, stride_a, b, stride_b, y, outer, inner);
    });
}

kiln_status kiln_binary_backward_f32(kiln_context* ctx, kiln_binary_op op_arg, const float* a, int64_t stride_a,
                                     const float* b, int64_t stride_b, const float* dy, float* da, float* db,
                                     int64_t outer, int64_t inner) {
    const char* op = "kiln_binary_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int bop = checked_binary_op(op, op_arg);
        const int64_t n = checked_strides(op, stride_a, stride_b, outer, inner);
        if (!da && !db) return;  // nothing wanted
        // A broadcast gradient with outer == 0 is an (inner) buffer of zeros, so it is written even then.
        const int64_t a_count = operand_count(stride_a, n, inner), b_count = operand_count(stride_b, n, inner);
        kiln::require_data(dy, (size_t)n, op, "dy");
        // Only the operands the wanted gradients read must be given: mul's da reads b, its db reads a; div reads b for
        // both and a for db; add and sub read neither.
        const bool reads_a = (bop == KILN_MUL || bop == KILN_DIV) && db;
        const bool reads_b = (bop == KILN_MUL && da) || bop == KILN_DIV;
        if (!a && reads_a && n > 0)
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'a' is null, but the %s gradient of 'b' reads it", op,
                 kBinaryNames[bop]);
        if (!b && reads_b && n > 0)
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'b' is null, but the %s gradient of '%s' reads it", op,
                 kBinaryNames[bop], da ? "a" : "b");
        if (da) kiln::require_data(da, (size_t)a_count, op, "da");
        if (db) kiln::require_data(db, (size_t)b_count, op, "db");
        // A full gradient may be written over dy (each element read, then written; broadcast gradients are summed
        // first); a broadcast one (inner) over several rows must not touch dy, which every column sum reads.
        kiln::check_same_or_disjoint(op, "da", da, a_count * 4, "dy", dy, n * 4);
        kiln::check_same_or_disjoint(op, "db", db, b_count * 4, "dy", dy, n * 4);
        kiln::check_outputs_apart(op, {{"da", da, a_count * 4}, {"db", db, b_count * 4}},
                                  {{"a", a, a_count * 4}, {"b", b, b_count * 4}});
        kiln::dispatch(c, op, KILN_BACKENDS(binary_backward_f32), bop, a, stride_a, b, stride_b, dy, da, db, outer,
                       inner);
    });
}

kiln_status kiln_activation_f32(kiln_context* ctx, kiln_activation act_arg, const float* x, float* y, int64_t n,
                                float alpha) {
    const char* op = "kiln_activation_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int act = checked_activation(op, act_arg);
        const int64_t bytes = kiln::checked_bytes(op, "x", kiln::checked_product(op, "x", {{"n", n}}), 4);
        kiln::require_all(op, {{x, n, "x"}, {y, n, "y"}});
        kiln::check_same_or_disjoint(op, "y", y, bytes, "x", x, bytes);
        kiln::dispatch(c, op, KILN_BACKENDS(activation_f32), act, x, y, n, alpha);
    });
}

kiln_status kiln_activation_backward_f32(kiln_context* ctx, kiln_activation act_arg, const float* x, const float* y,
                                         const float* dy, float* dx, int64_t n, float alpha) {
    const char* op = "kiln_activation_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int act = checked_activation(op, act_arg);
        kiln::checked_product(op, "x", {{"n", n}});
        // relu, leaky_relu and gelu differentiate from the input x; tanh and sigmoid from the output y.
        const bool reads_x = act != KILN_TANH && act != KILN_SIGMOID;
        if (reads_x) kiln::require_data(x, (size_t)n, op, "x");
        else kiln::require_data(y, (size_t)n, op, "y");
        kiln::require_all(op, {{dy, n, "dy"}, {dx, n, "dx"}});
        // In place over the one read, or over the other if given (it is not read).
        kiln::check_same_or_disjoint(op, "dx", dx, n * 4, "dy", dy, n * 4);
        kiln::check_same_or_disjoint(op, "dx", dx, n * 4, "x", x, n * 4);
        kiln::check_same_or_disjoint(op, "dx", dx, n * 4, "y", y, n * 4);
        kiln::dispatch(c, op, KILN_BACKENDS(activation_backward_f32), act, x, y, dy, dx, n, alpha);
    });
}

kiln_status kiln_scale_f32(kiln_context* ctx, const float* x, float* y, int64_t n, float alpha) {
    return unary_entry("kiln_scale_f32", ctx, x, y, n, [&](kiln_context& c) {
        kiln::dispatch(c, "kiln_scale_f32", KILN_BACKENDS(scale_f32), x, y, n, alpha);
    });
}

kiln_status kiln_axpy_f32(kiln_context* ctx, int64_t n, float alpha, const float* x, float* y) {
    return unary_entry("kiln_axpy_f32", ctx, x, y, n, [&](kiln_context& c) {
        kiln::dispatch(c, "kiln_axpy_f32", KILN_BACKENDS(axpy_f32), n, alpha, x, y);
    });
}

kiln_status kiln_bias_gelu_f32(kiln_context* ctx, const float* x, const float* bias, float* y, int64_t rows,
                               int64_t cols) {
    const char* op = "kiln_bias_gelu_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t n = checked_rows_cols(op, rows, cols);
        kiln::require_all(op, {{x, n, "x"}, {bias, n > 0 ? cols : 0, "bias"}, {y, n, "y"}});
        if (n == 0) return;
        kiln::check_same_or_disjoint(op, "y", y, n * 4, "x", x, n * 4);
        kiln::check_disjoint(op, "y", y, n * 4, "bias", bias, cols * 4);  // every row reads the bias
        kiln::dispatch(c, op, KILN_BACKENDS(bias_gelu_f32), x, bias, y, rows, cols);
    });
}

kiln_status kiln_bias_gelu_backward_f32(kiln_context* ctx, const float* x, const float* bias, const float* dy,
                                        float* dx, float* dbias, int64_t rows, int64_t cols) {
    const char* op = "kiln_bias_gelu_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int64_t n = checked_rows_cols(op, rows, cols);
        if (!dx && !dbias) return;  // nothing wanted
        // With rows == 0, dbias is (cols) zeros and nothing is read.
        kiln::require_all(op, {{x, n, "x"}, {bias, n > 0 ? cols : 0, "bias"}, {dy, n, "dy"}});
        if (dx) kiln::require_data(dx, (size_t)n, op, "dx");
        if (dbias) kiln::require_data(dbias, (size_t)cols, op, "dbias");
        kiln::check_same_or_disjoint(op, "dx", dx, n * 4, "dy", dy, n * 4);
        kiln::check_outputs_apart(op, {{"dbias", dbias, cols * 4}, {"dx", dx, n * 4}},
                                  {{"x", x, n * 4}, {"bias", bias, cols * 4}});
        kiln::check_outputs_apart(op, {{"dbias", dbias, cols * 4}}, {{"dy", dy, n * 4}});
        if (cols == 0 || (rows == 0 && !dbias)) return;
        kiln::dispatch(c, op, KILN_BACKENDS(bias_gelu_backward_f32), x, bias, dy, dx, dbias, rows, cols);
    });
}

}  // extern "C"

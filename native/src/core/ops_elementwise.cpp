// C ABI entries for elementwise ops (fill, binary ops with broadcasting, activations, scale, axpy): validation, then
// the backend of the context's device.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/context.h"
#include "core/gpu.h"
#include "cpu/elementwise.h"
#if KILN_WITH_CUDA
#include "elementwise.h"
#endif

using kiln::fail;

namespace {

const char* const kBinaryNames[] = {"add", "sub", "mul", "div"};

void check_count(const char* op, const char* arg, int64_t value) {
    if (value < 0) fail(KILN_ERR_INVALID_ARGUMENT, "%s: '%s' must be >= 0, got %lld", op, arg, (long long)value);
}

// outer * inner elements, checked for overflow.
int64_t checked_numel(const char* op, int64_t outer, int64_t inner) {
    check_count(op, "outer", outer);
    check_count(op, "inner", inner);
    if (inner > 0 && outer > INT64_MAX / inner)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: outer * inner overflows, got outer=%lld inner=%lld", op, (long long)outer,
             (long long)inner);
    return outer * inner;
}

// The enum's bits as an int, read without an enum load: a caller (JNI, another language) may pass any int, and in
// C++ loading an out-of-range enum value is undefined (UBSan flags it), so validation must not do that.
template <typename Enum>
int enum_value(const Enum& e) {
    static_assert(sizeof(Enum) == sizeof(int), "C ABI enums are int-sized");
    int v;
    std::memcpy(&v, &e, sizeof v);
    return v;
}

int checked_binary_op(const char* op, const kiln_binary_op& arg) {
    const int bop = enum_value(arg);
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

// Elements an operand with this stride holds: inner when broadcast, outer * inner when full.
size_t operand_count(int64_t stride, int64_t numel, int64_t inner) { return (size_t)(stride == 0 ? inner : numel); }

int checked_activation(const char* op, const kiln_activation& arg) {
    const int act = enum_value(arg);
    if (act < KILN_RELU || act > KILN_GELU)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: 'act' must be one of 0 (relu), 1 (leaky_relu), 2 (tanh), 3 (sigmoid), 4 (gelu), got %d", op, act);
    return act;
}


}  // namespace

extern "C" {

kiln_status kiln_fill_f32(kiln_context* ctx, float* y, size_t n, float value) {
    const char* op = "kiln_fill_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        kiln::require_data(y, n, op, "y");
        if (kiln::on_cpu(c)) return kiln::cpu::fill_f32(y, n, value);
        KILN_CUDA_RUN(op, kiln::cuda::fill_f32(KILN_STREAM(c), y, n, value));
    });
}

kiln_status kiln_binary_f32(kiln_context* ctx, kiln_binary_op op_arg, const float* a, int64_t stride_a, const float* b,
                            int64_t stride_b, float* y, int64_t outer, int64_t inner) {
    const char* op = "kiln_binary_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int bop = checked_binary_op(op, op_arg);
        const int64_t n = checked_numel(op, outer, inner);
        check_stride(op, "stride_a", stride_a, outer, inner);
        check_stride(op, "stride_b", stride_b, outer, inner);
        kiln::require_data(a, n > 0 ? operand_count(stride_a, n, inner) : 0, op, "a");
        kiln::require_data(b, n > 0 ? operand_count(stride_b, n, inner) : 0, op, "b");
        kiln::require_data(y, (size_t)n, op, "y");
        if (kiln::on_cpu(c)) return kiln::cpu::binary_f32(bop, a, stride_a, b, stride_b, y, outer, inner);
        KILN_CUDA_RUN(op, kiln::cuda::binary_f32(KILN_STREAM(c), bop, a, stride_a, b, stride_b, y, outer, inner));
    });
}

kiln_status kiln_binary_backward_f32(kiln_context* ctx, kiln_binary_op op_arg, const float* a, int64_t stride_a,
                                     const float* b, int64_t stride_b, const float* dy, float* da, float* db,
                                     int64_t outer, int64_t inner) {
    const char* op = "kiln_binary_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int bop = checked_binary_op(op, op_arg);
        const int64_t n = checked_numel(op, outer, inner);
        check_stride(op, "stride_a", stride_a, outer, inner);
        check_stride(op, "stride_b", stride_b, outer, inner);
        if (!da && !db) return;  // nothing wanted
        // A broadcast gradient with outer == 0 is an (inner) buffer of zeros, so it is written even then.
        const size_t a_count = operand_count(stride_a, n, inner), b_count = operand_count(stride_b, n, inner);
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
        if (da) kiln::require_data(da, a_count, op, "da");
        if (db) kiln::require_data(db, b_count, op, "db");
        if (kiln::on_cpu(c))
            return kiln::cpu::binary_backward_f32(bop, a, stride_a, b, stride_b, dy, da, db, outer, inner);
#if KILN_WITH_CUDA
        const bool reduces = (da && stride_a == 0) || (db && stride_b == 0);
        kiln::DeviceScratch workspace(c, reduces ? kiln::cuda::binary_backward_workspace_bytes(outer, inner) : 0);
        KILN_CUDA_RUN(op, kiln::cuda::binary_backward_f32(KILN_STREAM(c), bop, a, stride_a, b, stride_b, dy, da, db,
                                                          outer, inner, workspace.as<float>()));
#else
        KILN_CUDA_RUN(op, 0);
#endif
    });
}

kiln_status kiln_activation_f32(kiln_context* ctx, kiln_activation act_arg, const float* x, float* y, int64_t n,
                                float alpha) {
    const char* op = "kiln_activation_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int act = checked_activation(op, act_arg);
        check_count(op, "n", n);
        kiln::require_data(x, (size_t)n, op, "x");
        kiln::require_data(y, (size_t)n, op, "y");
        if (kiln::on_cpu(c)) return kiln::cpu::activation_f32(act, x, y, n, alpha);
        KILN_CUDA_RUN(op, kiln::cuda::activation_f32(KILN_STREAM(c), act, x, y, n, alpha));
    });
}

kiln_status kiln_activation_backward_f32(kiln_context* ctx, kiln_activation act_arg, const float* x, const float* y,
                                         const float* dy, float* dx, int64_t n, float alpha) {
    const char* op = "kiln_activation_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        const int act = checked_activation(op, act_arg);
        check_count(op, "n", n);
        // relu, leaky_relu and gelu differentiate from the input x; tanh and sigmoid from the output y.
        const bool reads_x = act != KILN_TANH && act != KILN_SIGMOID;
        if (reads_x) kiln::require_data(x, (size_t)n, op, "x");
        else kiln::require_data(y, (size_t)n, op, "y");
        kiln::require_data(dy, (size_t)n, op, "dy");
        kiln::require_data(dx, (size_t)n, op, "dx");
        if (kiln::on_cpu(c)) return kiln::cpu::activation_backward_f32(act, x, y, dy, dx, n, alpha);
        KILN_CUDA_RUN(op, kiln::cuda::activation_backward_f32(KILN_STREAM(c), act, x, y, dy, dx, n, alpha));
    });
}

kiln_status kiln_scale_f32(kiln_context* ctx, const float* x, float* y, int64_t n, float alpha) {
    const char* op = "kiln_scale_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        check_count(op, "n", n);
        kiln::require_data(x, (size_t)n, op, "x");
        kiln::require_data(y, (size_t)n, op, "y");
        if (kiln::on_cpu(c)) return kiln::cpu::scale_f32(x, y, n, alpha);
        KILN_CUDA_RUN(op, kiln::cuda::scale_f32(KILN_STREAM(c), x, y, n, alpha));
    });
}

kiln_status kiln_axpy_f32(kiln_context* ctx, int64_t n, float alpha, const float* x, float* y) {
    const char* op = "kiln_axpy_f32";
    return kiln::guarded(op, [&] {
        kiln_context& c = kiln::op_context(ctx, op);
        check_count(op, "n", n);
        kiln::require_data(x, (size_t)n, op, "x");
        kiln::require_data(y, (size_t)n, op, "y");
        if (kiln::on_cpu(c)) return kiln::cpu::axpy_f32(n, alpha, x, y);
        KILN_CUDA_RUN(op, kiln::cuda::axpy_f32(KILN_STREAM(c), n, alpha, x, y));
    });
}

}  // extern "C"

// C ABI entries for the LSTM layer: the reserve size, and validation plus dispatch of the forward and the backward
// to native/src/cpu/lstm.cpp or kernels/lstm.cu.
#include <cstdint>
#include <string>

#include "common/lstm_cell.h"
#include "core/context.h"
#include "core/gpu.h"
#include "cpu/lstm.h"
#if KILN_WITH_CUDA
#include "lstm.h"
#endif

using kiln::fail;

namespace {

// Element counts of every operand, from a validated descriptor.
struct Counts {
    size_t x, y, state, w_ih, w_hh, bias, reserve;
};

// Largest element count of any one buffer: leaves room for byte sizes (x4) and the reserve (6 n t h) in int64.
constexpr int64_t kMaxElems = INT64_C(1) << 56;

int64_t product(const char* op, const kiln_lstm_desc& d, int64_t a, int64_t b, int64_t c, const char* what) {
    int64_t ab = 0, abc = 0;
    if (__builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(ab, c, &abc) || abc > kMaxElems)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: %s is too large for desc (n=%lld, t=%lld, f=%lld, h=%lld)", op, what,
             (long long)d.n, (long long)d.t, (long long)d.f, (long long)d.h);
    return abc;
}

Counts check_desc(const char* op, const kiln_lstm_desc* desc) {
    if (!desc) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc' is null", op);
    const kiln_lstm_desc& d = *desc;
    if (d.n < 1 || d.t < 1 || d.f < 1 || d.h < 1)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: desc needs n, t, f, h >= 1, got n=%lld, t=%lld, f=%lld, h=%lld", op,
             (long long)d.n, (long long)d.t, (long long)d.f, (long long)d.h);
    Counts c;
    c.x = (size_t)product(op, d, d.n, d.t, d.f, "x (n, t, f)");
    c.y = (size_t)product(op, d, d.n, d.t, d.h, "y (n, t, h)");
    c.reserve = (size_t)product(op, d, 6 * d.n, d.t, d.h, "the reserve (6 n t h floats)");
    c.w_ih = (size_t)product(op, d, 4, d.h, d.f, "w_ih (4h, f)");
    c.w_hh = (size_t)product(op, d, 4, d.h, d.h, "w_hh (4h, h)");
    c.state = (size_t)(d.n * d.h);
    c.bias = (size_t)(4 * d.h);
    return c;
}

// A required operand: the message names it with the shape it should have.
void need(const void* p, const char* op, const char* arg, const char* dims, const kiln_lstm_desc& d) {
    if (!p)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument '%s' is null (expected %s with n=%lld, t=%lld, f=%lld, h=%lld)",
             op, arg, dims, (long long)d.n, (long long)d.t, (long long)d.f, (long long)d.h);
}


}  // namespace

extern "C" {

kiln_status kiln_lstm_reserve_size(const kiln_lstm_desc* desc, uint64_t* bytes) {
    const char* op = "kiln_lstm_reserve_size";
    return kiln::guarded(op, [&] {
        check_desc(op, desc);
        if (!bytes) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'bytes' is null", op);
        // Exactly what BPTT needs, the same layout on both backends (kiln::lstm::reserve_layout): the activated
        // gates (n, t, 4h), the cell states c_t (n, t, h) and the hidden state each step read, h_{t-1} (n, t, h).
        // The backward is not given y, so the hidden states must be kept; keeping h_{t-1} (h0 first) rather than
        // h_t makes dW_hh a single GEMM. tanh(c_t) is recomputed. Total 6 n t h floats = 24 n t h bytes.
        const kiln::lstm::ReserveLayout L = kiln::lstm::reserve_layout(desc->n, desc->t, desc->h);
        *bytes = (uint64_t)L.total * sizeof(float);
    });
}

kiln_status kiln_lstm_forward_f32(kiln_context* ctx, const kiln_lstm_desc* desc, const float* x, const float* h0,
                                  const float* c0, const float* w_ih, const float* w_hh, const float* bias, float* y,
                                  float* h_n, float* c_n, void* reserve) {
    const char* op = "kiln_lstm_forward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        check_desc(op, desc);
        const kiln_lstm_desc& d = *desc;
        need(x, op, "x", "(n, t, f)", d);
        need(w_ih, op, "w_ih", "(4h, f)", d);
        need(w_hh, op, "w_hh", "(4h, h)", d);
        need(bias, op, "bias", "(4h)", d);
        need(y, op, "y", "(n, t, h)", d);
        need(h_n, op, "h_n", "(n, h)", d);
        need(c_n, op, "c_n", "(n, h)", d);
        float* res = static_cast<float*>(reserve);
        if (kiln::on_cpu(cx))
            return kiln::cpu::lstm_forward_f32(d.n, d.t, d.f, d.h, x, h0, c0, w_ih, w_hh, bias, y, h_n, c_n, res);
#if KILN_WITH_CUDA
        kiln::DeviceScratch ws(cx, kiln::cuda::lstm_forward_workspace_bytes(d.n, d.t, d.f, d.h, res != nullptr,
                                                                      kiln::cuda::LstmPath::Auto));
        KILN_CUDA_RUN(op, kiln::cuda::lstm_forward_f32(KILN_STREAM(cx), d.n, d.t, d.f, d.h, x, h0, c0, w_ih, w_hh,
                                                       bias, y, h_n, c_n, res, ws.get()));
#else
        KILN_CUDA_RUN(op, 0);
#endif
    });
}

kiln_status kiln_lstm_backward_f32(kiln_context* ctx, const kiln_lstm_desc* desc, const float* x, const float* h0,
                                   const float* c0, const float* w_ih, const float* w_hh, const void* reserve,
                                   const float* dy, const float* dh_n, const float* dc_n, float* dx, float* dh0,
                                   float* dc0, float* dw_ih, float* dw_hh, float* dbias) {
    const char* op = "kiln_lstm_backward_f32";
    return kiln::guarded(op, [&] {
        kiln_context& cx = kiln::op_context(ctx, op);
        check_desc(op, desc);
        const kiln_lstm_desc& d = *desc;
        // h0 is not read: the forward kept it (as the first hidden state) in the reserve. c0 is read (NULL: zeros).
        need(x, op, "x", "(n, t, f)", d);
        if (dx) need(w_ih, op, "w_ih", "(4h, f), read for dx", d);
        need(w_hh, op, "w_hh", "(4h, h)", d);
        need(reserve, op, "reserve", "the forward's reserve of kiln_lstm_reserve_size bytes", d);
        need(dy, op, "dy", "(n, t, h)", d);
        need(dw_ih, op, "dw_ih", "(4h, f)", d);
        need(dw_hh, op, "dw_hh", "(4h, h)", d);
        need(dbias, op, "dbias", "(4h)", d);
        const float* res = static_cast<const float*>(reserve);
        if (kiln::on_cpu(cx))
            return kiln::cpu::lstm_backward_f32(d.n, d.t, d.f, d.h, x, c0, w_ih, w_hh, res, dy, dh_n, dc_n, dx, dh0,
                                                dc0, dw_ih, dw_hh, dbias);
#if KILN_WITH_CUDA
        kiln::DeviceScratch ws(cx, kiln::cuda::lstm_backward_workspace_bytes(d.n, d.t, d.f, d.h));
        KILN_CUDA_RUN(op, kiln::cuda::lstm_backward_f32(KILN_STREAM(cx), d.n, d.t, d.f, d.h, x, c0, w_ih, w_hh, res,
                                                        dy, dh_n, dc_n, dx, dh0, dc0, dw_ih, dw_hh, dbias, ws.get()));
#else
        KILN_CUDA_RUN(op, 0);
#endif
    });
}

}  // extern "C"

// C ABI entries for the LSTM layer: the reserve size, and validation plus dispatch of the forward and the backward
// to native/src/cpu/lstm.cpp or kernels/lstm.cu.
#include <cstdint>
#include <initializer_list>

#include "common/lstm_cell.h"
#include "core/checked.h"
#include "core/dispatch.h"
#include "lstm.h"

using kiln::fail;

namespace {

// Largest element count of any one buffer: leaves room for byte sizes (x4) and the reserve (6 n t h) in int64.
constexpr int64_t kMaxElems = INT64_C(1) << 56;

void check_desc(const char* op, const kiln_lstm_desc* desc) {
    if (!desc) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc' is null", op);
    const kiln_lstm_desc& d = *desc;
    if (d.n < 1 || d.t < 1 || d.f < 1 || d.h < 1)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: desc needs n, t, f, h >= 1, got n=%lld, t=%lld, f=%lld, h=%lld", op,
             (long long)d.n, (long long)d.t, (long long)d.f, (long long)d.h);
    kiln::checked_product(op, "x", {{"n", d.n}, {"t", d.t}, {"f", d.f}}, kMaxElems);
    kiln::checked_product(op, "y", {{"n", d.n}, {"t", d.t}, {"h", d.h}}, kMaxElems);
    kiln::checked_product(op, "the reserve", {{"6", 6}, {"n", d.n}, {"t", d.t}, {"h", d.h}}, kMaxElems);
    kiln::checked_product(op, "w_ih", {{"4", 4}, {"h", d.h}, {"f", d.f}}, kMaxElems);
    kiln::checked_product(op, "w_hh", {{"4", 4}, {"h", d.h}, {"h", d.h}}, kMaxElems);
}

// The operands an entry requires: each is named with the shape it should have when it is null.
struct Required {
    const void* ptr;
    const char* arg;
    const char* dims;
};

void need_all(const char* op, const kiln_lstm_desc& d, std::initializer_list<Required> args) {
    for (const Required& r : args)
        if (!r.ptr)
            fail(KILN_ERR_INVALID_ARGUMENT,
                 "%s: argument '%s' is null (expected %s with n=%lld, t=%lld, f=%lld, h=%lld)", op, r.arg, r.dims,
                 (long long)d.n, (long long)d.t, (long long)d.f, (long long)d.h);
}

// Bytes of each operand, from a checked descriptor (every product fits 2^56 elements).
struct Bytes {
    int64_t x, y, state, w_ih, w_hh, bias, reserve;
    explicit Bytes(const kiln_lstm_desc& d)
        : x(d.n * d.t * d.f * 4), y(d.n * d.t * d.h * 4), state(d.n * d.h * 4), w_ih(4 * d.h * d.f * 4),
          w_hh(4 * d.h * d.h * 4), bias(4 * d.h * 4), reserve(6 * d.n * d.t * d.h * 4) {}
};

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
        // The persistent path is a cooperative launch chosen by occupancy at call time, with a fallback when the
        // launch is refused: a graph would freeze the choice and could not fall back at replay.
        kiln::refuse_while_capturing(cx, op, "may take a cooperative launch (the persistent path)",
                                     "run the LSTM layer eagerly");
        check_desc(op, desc);
        const kiln_lstm_desc& d = *desc;
        need_all(op, d, {{x, "x", "(n, t, f)"}, {w_ih, "w_ih", "(4h, f)"}, {w_hh, "w_hh", "(4h, h)"},
                         {bias, "bias", "(4h)"}, {y, "y", "(n, t, h)"}, {h_n, "h_n", "(n, h)"},
                         {c_n, "c_n", "(n, h)"}});
        const Bytes b(d);
        kiln::check_outputs_apart(op, {{"y", y, b.y}, {"h_n", h_n, b.state}, {"c_n", c_n, b.state},
                                       {"reserve", reserve, b.reserve}},
                                  {{"x", x, b.x}, {"h0", h0, b.state}, {"c0", c0, b.state}, {"w_ih", w_ih, b.w_ih},
                                   {"w_hh", w_hh, b.w_hh}, {"bias", bias, b.bias}});
        float* res = static_cast<float*>(reserve);
        kiln::dispatch(cx, op, KILN_BACKENDS(lstm_forward_f32), d.n, d.t, d.f, d.h, x, h0, c0, w_ih, w_hh, bias, y,
                       h_n, c_n, res);
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
        const void* w_ih_if_read = dx ? static_cast<const void*>(w_ih) : &d;  // w_ih is read only for dx
        need_all(op, d, {{x, "x", "(n, t, f)"}, {w_ih_if_read, "w_ih", "(4h, f), read for dx"},
                         {w_hh, "w_hh", "(4h, h)"},
                         {reserve, "reserve", "the forward's reserve of kiln_lstm_reserve_size bytes"},
                         {dy, "dy", "(n, t, h)"}, {dw_ih, "dw_ih", "(4h, f)"}, {dw_hh, "dw_hh", "(4h, h)"},
                         {dbias, "dbias", "(4h)"}});
        const Bytes b(d);
        kiln::check_outputs_apart(op, {{"dx", dx, b.x}, {"dh0", dh0, b.state}, {"dc0", dc0, b.state},
                                       {"dw_ih", dw_ih, b.w_ih}, {"dw_hh", dw_hh, b.w_hh}, {"dbias", dbias, b.bias}},
                                  {{"x", x, b.x}, {"h0", h0, b.state}, {"c0", c0, b.state}, {"w_ih", w_ih, b.w_ih},
                                   {"w_hh", w_hh, b.w_hh}, {"reserve", reserve, b.reserve}, {"dy", dy, b.y},
                                   {"dh_n", dh_n, b.state}, {"dc_n", dc_n, b.state}});
        const float* res = static_cast<const float*>(reserve);
        kiln::dispatch(cx, op, KILN_BACKENDS(lstm_backward_f32), d.n, d.t, d.f, d.h, x, c0, w_ih, w_hh, res, dy,
                       dh_n, dc_n, dx, dh0, dc0, dw_ih, dw_hh, dbias);
    });
}

}  // extern "C"

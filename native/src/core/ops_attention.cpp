// C ABI entries for fused attention: validate the descriptor (sizes, strides, every operand's span, the outputs'
// strides, scale and dropout) and the pointers, then run the backend of the context's device.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "attention.h"
#include "core/checked.h"
#include "core/dispatch.h"

using kiln::fail;

namespace {

constexpr int64_t kMaxHeadDim = 128;  // both backends keep a row of head_dim in registers or shared memory

// One operand's layout: (batch, heads, len, head_dim) at element strides {batch, head, token}, head_dim contiguous.
struct Operand {
    const char* name;
    const int64_t* stride;  // desc's q_stride / k_stride / v_stride / o_stride
    int64_t len;            // q_len or kv_len
};

// Elements from the first to one past the last element the operand touches, (batch - 1) sb + (heads - 1) sh +
// (len - 1) st + head_dim, formed by the checked helper (0 for an empty operand).
int64_t operand_span(const char* op, const kiln_attention_desc& d, const Operand& x) {
    const int64_t row = kiln::checked_span(op, x.name, {"len", x.len}, {"token stride", x.stride[2]},
                                           {"head_dim", d.head_dim});
    const int64_t head = kiln::checked_span(op, x.name, {"heads", d.heads}, {"head stride", x.stride[1]}, {"span", row});
    return kiln::checked_span(op, x.name, {"batch", d.batch}, {"batch stride", x.stride[0]}, {"span", head});
}

// An output must not write one element for two logical positions: that would make results depend on which thread
// (or GPU block) writes last. Sufficient test: with the axes sorted by stride, each stride clears the extent of the
// axes below it (head_dim, stride 1, is the innermost). Inputs may overlap freely (a stride 0 head axis shares one K
// among heads).
void require_distinct_elements(const char* op, const kiln_attention_desc& d, const Operand& x) {
    struct Axis {
        int64_t count, stride;
        const char* name;
    } axes[3] = {{d.batch, x.stride[0], "batch"}, {d.heads, x.stride[1], "head"}, {x.len, x.stride[2], "token"}};
    std::sort(axes, axes + 3, [](const Axis& a, const Axis& b) { return a.stride < b.stride; });
    int64_t extent = d.head_dim;  // elements covered by the axes below; fits: the span was checked first
    for (const Axis& a : axes) {
        if (a.count <= 1) continue;  // an axis that never steps cannot collide
        if (a.stride < extent)
            fail(KILN_ERR_INVALID_ARGUMENT,
                 "%s: output '%s' strides {%lld, %lld, %lld} make distinct elements share memory: its %s stride %lld "
                 "is below the %lld elements the smaller axes span (head_dim=%lld)",
                 op, x.name, (long long)x.stride[0], (long long)x.stride[1], (long long)x.stride[2], a.name,
                 (long long)a.stride, (long long)extent, (long long)d.head_dim);
        extent = (a.count - 1) * a.stride + extent;
    }
}

// floor(a / b) and ceil(a / b) for b > 0.
int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && a < 0); }
int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0 && a > 0); }

// Whether an output of distinct elements (require_distinct_elements) at `stride`, of `len` tokens, shares an element
// with itself moved on by `delta` elements: whether delta = sum_k j_k stride_k + e for index differences
// |j_k| < count_k and |e| < head_dim. Searched from the largest stride down. Distinct elements means the axes below a
// stepping axis reach less than its stride either way, so at most two j fit an axis: at most 8 leaves.
bool shares_an_element(const kiln_attention_desc& d, const int64_t* stride, int64_t len, int64_t delta) {
    struct Axis {
        int64_t count, stride;
    } axes[3] = {{d.batch, stride[0]}, {d.heads, stride[1]}, {len, stride[2]}};
    std::sort(axes, axes + 3, [](const Axis& a, const Axis& b) { return a.stride < b.stride; });
    int64_t reach[3];  // the most head_dim and the axes below axis k move an index difference, either way
    reach[0] = d.head_dim - 1;
    for (int k = 1; k < 3; ++k) reach[k] = reach[k - 1] + (axes[k - 1].count - 1) * axes[k - 1].stride;
    auto search = [&](auto&& self, int k, int64_t rest) -> bool {
        if (k < 0) return rest >= -reach[0] && rest <= reach[0];
        const Axis& a = axes[k];
        if (a.count <= 1) return self(self, k - 1, rest);  // its difference is 0
        const int64_t lo = std::max(1 - a.count, ceil_div(rest - reach[k], a.stride));
        const int64_t hi = std::min(a.count - 1, floor_div(rest + reach[k], a.stride));
        for (int64_t j = lo; j <= hi; ++j)
            if (self(self, k - 1, rest - j * a.stride)) return true;
        return false;
    };
    return search(search, 2, delta);
}

// A gradient as written: its region (from its start to its last element), its strides (its operand's), token count.
struct Gradient {
    kiln::Region r;
    const int64_t* stride;
    int64_t len;
};

// dq, dk and dv may share one buffer, as in a packed QKV projection's gradient, when they lie at the same strides and
// lengths on elements of their own; any other overlap would have two of them write one element.
void require_own_elements(const char* op, const kiln_attention_desc& d, const Gradient& a, const Gradient& b,
                          int64_t elem) {
    if (!a.r.p || !b.r.p) return;
    const intptr_t pa = reinterpret_cast<intptr_t>(a.r.p), pb = reinterpret_cast<intptr_t>(b.r.p);
    if (pa <= pb ? pb - pa >= a.r.bytes : pa - pb >= b.r.bytes) return;  // apart
    const bool same_layout = std::equal(a.stride, a.stride + 3, b.stride) && a.len == b.len;
    if (!same_layout || (pb - pa) % elem != 0)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: '%s' and '%s' overlap at different strides or lengths, or not a whole element apart; gradients may "
             "share one buffer only at the same strides and lengths, each on elements of its own", op, a.r.name, b.r.name);
    if (shares_an_element(d, a.stride, a.len, (pb - pa) / elem))
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: '%s' and '%s' overlap: %lld elements apart at strides {%lld, %lld, %lld} (head_dim=%lld), they "
             "share elements", op, a.r.name, b.r.name, (long long)((pb - pa) / elem), (long long)a.stride[0],
             (long long)a.stride[1], (long long)a.stride[2], (long long)d.head_dim);
}

// Validates everything but the pointers; returns whether the call has work (no dimension is 0).
bool validate_desc(const char* op, const kiln_attention_desc* desc) {
    if (!desc) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'desc' is null", op);
    const kiln_attention_desc& d = *desc;
    if (d.batch < 0 || d.heads < 0 || d.q_len < 0 || d.kv_len < 0 || d.head_dim < 1 || d.head_dim > kMaxHeadDim)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: needs batch, heads, q_len, kv_len >= 0 and 1 <= head_dim <= %lld, got batch=%lld, heads=%lld, "
             "q_len=%lld, kv_len=%lld, head_dim=%lld",
             op, (long long)kMaxHeadDim, (long long)d.batch, (long long)d.heads, (long long)d.q_len,
             (long long)d.kv_len, (long long)d.head_dim);
    const Operand operands[] = {{"q", d.q_stride, d.q_len}, {"k", d.k_stride, d.kv_len}, {"v", d.v_stride, d.kv_len},
                                {"o", d.o_stride, d.q_len}};
    for (const Operand& x : operands)
        for (int i = 0; i < 3; ++i)
            if (x.stride[i] < 0)
                fail(KILN_ERR_INVALID_ARGUMENT, "%s: %s's strides must be >= 0, got {%lld, %lld, %lld}", op, x.name,
                     (long long)x.stride[0], (long long)x.stride[1], (long long)x.stride[2]);
    for (const Operand& x : operands) operand_span(op, d, x);
    kiln::checked_product(op, "lse", {{"batch", d.batch}, {"heads", d.heads}, {"q_len", d.q_len}});
    // The dropout stream numbers every (b, h, t, s) weight: that count must fit too.
    kiln::checked_product(op, "the weights", {{"batch", d.batch}, {"heads", d.heads}, {"q_len", d.q_len},
                                              {"kv_len", d.kv_len}}, INT64_MAX);
    if (!std::isfinite(d.scale)) fail(KILN_ERR_INVALID_ARGUMENT, "%s: scale must be finite, got %g", op, (double)d.scale);
    if (!(d.dropout >= 0.0f && d.dropout < 1.0f))
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: dropout must be in [0, 1), got %g", op, (double)d.dropout);
    if (d.causal != 0 && d.causal != 1)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: causal must be 0 or 1, got %d", op, (int)d.causal);
    return d.batch > 0 && d.heads > 0 && d.q_len > 0 && d.kv_len > 0;
}

int64_t span(const char* op, const kiln_attention_desc& d, const char* name, const int64_t* stride, int64_t len) {
    return operand_span(op, d, Operand{name, stride, len});
}

// On a CPU context the lengths are host memory, read here so that a bad one fails with its index rather than being
// clamped. (A CUDA kernel cannot report; its mask clamps a length to [0, kv_len], AttentionMask::key_end.)
void check_kv_lengths(const char* op, const kiln_context& cx, const kiln_attention_desc& d, const int32_t* lengths) {
    if (!lengths || !kiln::on_cpu(cx)) return;
    for (int64_t b = 0; b < d.batch; ++b)
        if (lengths[b] < 0 || lengths[b] > d.kv_len)
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: kv_lengths[%lld] = %d is outside [0, kv_len=%lld]", op, (long long)b,
                 (int)lengths[b], (long long)d.kv_len);
}

// Dropout's (seed, offset) are kernel arguments: a graph would replay the same mask every time.
void refuse_frozen_dropout(const char* op, kiln_context& cx, const kiln_attention_desc& d) {
    if (d.dropout > 0.0f)
        kiln::refuse_while_capturing(cx, op, "draws its dropout mask from a Philox stream whose (seed, offset) would be "
                                     "frozen into the graph", "capture attention with dropout 0 (eval mode)");
}

// The entries' one body per direction: fp32 and bf16 differ only in the element type and the backends they reach.
template <class T, class Backends>
void forward_entry(const char* op, Backends backends, kiln_context* ctx, const kiln_attention_desc* desc, const T* q,
                   const T* k, const T* v, const int32_t* kv_lengths, T* o, float* lse) {
    kiln_context& cx = kiln::op_context(ctx, op);
    if (!validate_desc(op, desc)) return;
    const kiln_attention_desc& d = *desc;
    refuse_frozen_dropout(op, cx, d);
    require_distinct_elements(op, d, {"o", d.o_stride, d.q_len});
    const int64_t q_span = span(op, d, "q", d.q_stride, d.q_len), k_span = span(op, d, "k", d.k_stride, d.kv_len),
                  v_span = span(op, d, "v", d.v_stride, d.kv_len), o_span = span(op, d, "o", d.o_stride, d.q_len);
    kiln::require_all(op, {{q, q_span, "q"}, {k, k_span, "k"}, {v, v_span, "v"}, {o, o_span, "o"}});
    check_kv_lengths(op, cx, d, kv_lengths);
    // o is written while q, k and v are still read; a span covers every element a strided view reaches.
    const int64_t e = sizeof(T);
    kiln::check_outputs_apart(op, {{"o", o, o_span * e}, {"lse", lse, d.batch * d.heads * d.q_len * 4}},
                              {{"q", q, q_span * e}, {"k", k, k_span * e}, {"v", v, v_span * e},
                               {"kv_lengths", kv_lengths, d.batch * 4}});
    kiln::dispatch(cx, op, backends, d, q, k, v, kv_lengths, o, lse);
}

template <class T, class Backends>
void backward_entry(const char* op, Backends backends, kiln_context* ctx, const kiln_attention_desc* desc, const T* q,
                    const T* k, const T* v, const T* o, const T* dout, const float* lse, const int32_t* kv_lengths,
                    T* dq, T* dk, T* dv) {
    kiln_context& cx = kiln::op_context(ctx, op);
    if (!validate_desc(op, desc)) return;
    const kiln_attention_desc& d = *desc;
    refuse_frozen_dropout(op, cx, d);
    // A gradient has the strides of its operand, so it is an output written at those strides.
    if (dq) require_distinct_elements(op, d, {"dq (q's strides)", d.q_stride, d.q_len});
    if (dk) require_distinct_elements(op, d, {"dk (k's strides)", d.k_stride, d.kv_len});
    if (dv) require_distinct_elements(op, d, {"dv (v's strides)", d.v_stride, d.kv_len});
    const int64_t q_span = span(op, d, "q", d.q_stride, d.q_len), k_span = span(op, d, "k", d.k_stride, d.kv_len),
                  v_span = span(op, d, "v", d.v_stride, d.kv_len), o_span = span(op, d, "o", d.o_stride, d.q_len);
    kiln::require_all(op, {{q, q_span, "q"}, {k, k_span, "k"}, {v, v_span, "v"}, {o, o_span, "o"},
                           {dout, o_span, "dout"}, {lse, d.batch * d.heads * d.q_len, "lse"}});
    check_kv_lengths(op, cx, d, kv_lengths);
    if (!dq && !dk && !dv) return;  // nothing wanted
    // The gradients are written while q, k, v, o and dout are still read; a span covers every element a strided view
    // reaches. Among themselves they may share one buffer, on elements of their own.
    const int64_t e = sizeof(T);
    const std::initializer_list<kiln::Region> inputs = {
        {"q", q, q_span * e}, {"k", k, k_span * e}, {"v", v, v_span * e}, {"o", o, o_span * e},
        {"dout", dout, o_span * e}, {"lse", lse, d.batch * d.heads * d.q_len * 4},
        {"kv_lengths", kv_lengths, d.batch * 4}};
    const Gradient grads[3] = {{{"dq", dq, q_span * e}, d.q_stride, d.q_len},
                               {{"dk", dk, k_span * e}, d.k_stride, d.kv_len},
                               {{"dv", dv, v_span * e}, d.v_stride, d.kv_len}};
    for (int i = 0; i < 3; ++i) {
        kiln::check_outputs_apart(op, {grads[i].r}, inputs);
        for (int j = i + 1; j < 3; ++j) require_own_elements(op, d, grads[i], grads[j], e);
    }
    kiln::dispatch(cx, op, backends, d, q, k, v, o, dout, lse, kv_lengths, dq, dk, dv);
}

}  // namespace

extern "C" {

kiln_status kiln_attention_forward_f32(kiln_context* ctx, const kiln_attention_desc* desc, const float* q,
                                       const float* k, const float* v, const int32_t* kv_lengths, float* o,
                                       float* lse) {
    const char* op = "kiln_attention_forward_f32";
    return kiln::guarded(op, [&] {
        forward_entry(op, KILN_BACKENDS(attention_forward_f32), ctx, desc, q, k, v, kv_lengths, o, lse);
    });
}

kiln_status kiln_attention_backward_f32(kiln_context* ctx, const kiln_attention_desc* desc, const float* q,
                                        const float* k, const float* v, const float* o, const float* dout,
                                        const float* lse, const int32_t* kv_lengths, float* dq, float* dk,
                                        float* dv) {
    const char* op = "kiln_attention_backward_f32";
    return kiln::guarded(op, [&] {
        backward_entry(op, KILN_BACKENDS(attention_backward_f32), ctx, desc, q, k, v, o, dout, lse, kv_lengths, dq, dk,
                       dv);
    });
}

kiln_status kiln_attention_forward_bf16(kiln_context* ctx, const kiln_attention_desc* desc, const kiln_bf16* q,
                                        const kiln_bf16* k, const kiln_bf16* v, const int32_t* kv_lengths,
                                        kiln_bf16* o, float* lse) {
    const char* op = "kiln_attention_forward_bf16";
    return kiln::guarded(op, [&] {
        forward_entry(op, KILN_BACKENDS(attention_forward_bf16), ctx, desc, q, k, v, kv_lengths, o, lse);
    });
}

kiln_status kiln_attention_backward_bf16(kiln_context* ctx, const kiln_attention_desc* desc, const kiln_bf16* q,
                                         const kiln_bf16* k, const kiln_bf16* v, const kiln_bf16* o,
                                         const kiln_bf16* dout, const float* lse, const int32_t* kv_lengths,
                                         kiln_bf16* dq, kiln_bf16* dk, kiln_bf16* dv) {
    const char* op = "kiln_attention_backward_bf16";
    return kiln::guarded(op, [&] {
        backward_entry(op, KILN_BACKENDS(attention_backward_bf16), ctx, desc, q, k, v, o, dout, lse, kv_lengths, dq, dk,
                       dv);
    });
}

}  // extern "C"

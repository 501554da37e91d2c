// The harness's call families over the transformer's entries: bf16 conversion, fused attention (f32 and bf16, with
// fuzzed per-operand strides, masks and dropout), layer norm, embedding and sinusoidal positions, bias + GELU, and the
// pitched device copy. kiln.h's rules decide what is invalid (see fuzz_abi.cpp), and so do core's refusals that
// kiln.h leaves unsaid, each marked where it is modelled: the oracles hold a call the harness thinks valid but for a
// NULL to naming that NULL, so the harness has to know every other reason for a refusal.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "common/bf16.h"
#include "fuzz_calls.h"
#include "fuzz_harness.h"

namespace kiln::fuzz {

namespace {

// A bf16 input `name` of `count` elements. Call fills 2-byte blocks with raw bytes (tiny subnormals), so a block this
// call may touch in full is refilled with small values, now and then NaN and infinities, as the fp32 operands get.
const kiln_bf16* bf16_in(State& s, Call& c, const char* name, int64_t count) {
    kiln_bf16* p = c.in<kiln_bf16>(name, count);
    if (!p || c.oversized() || count <= 0 || count > kMaxCallBytes / 2) return p;
    const uint8_t mode = s.in.u8();
    uint32_t x = 0x85EBCA6Bu * (mode + 1u);
    for (int64_t i = 0; i < count; ++i) {
        x = x * 1664525u + 1013904223u;
        float v = (float)((int32_t)x >> 8) * 0x1p-22f;
        if ((mode & 6) == 6 && (x >> 28) == 0) v = (x & 1) ? NAN : ((x & 2) ? INFINITY : -INFINITY);
        p[i] = f32_to_bf16(v);
    }
    return p;
}

int32_t as_kind(int64_t v) { return (int32_t)std::clamp<int64_t>(v, 0, INT32_MAX); }

// Elements an attention operand spans: (batch - 1) sb + (heads - 1) sh + (len - 1) st + head_dim (saturating, 0 when
// a count is 0); kHuge when that cannot be a buffer.
int64_t attention_span(const kiln_attention_desc& d, const int64_t* stride, int64_t len) {
    if (d.batch <= 0 || d.heads <= 0 || len <= 0 || d.head_dim <= 0) return 0;
    int64_t e = std::min<int64_t>(d.head_dim, 128);
    e = sat_add(e, sat_mul(len - 1, stride[2]));
    e = sat_add(e, sat_mul(d.heads - 1, stride[1]));
    return sat_add(e, sat_mul(d.batch - 1, stride[0]));
}

// Whether an output at these strides gives every logical element its own memory, by kiln.h's refusal of "output
// strides under which two elements ... would share memory", decided as core decides it: with the axes sorted by
// stride, each stride that steps clears the extent of the axes below it.
bool distinct_elements(const kiln_attention_desc& d, const int64_t* stride, int64_t len) {
    struct Axis {
        int64_t count, stride;
    } axes[3] = {{d.batch, stride[0]}, {d.heads, stride[1]}, {len, stride[2]}};
    std::sort(axes, axes + 3, [](const Axis& a, const Axis& b) { return a.stride < b.stride; });
    int64_t extent = d.head_dim;
    for (const Axis& a : axes) {
        if (a.count <= 1) continue;
        if (a.stride < extent) return false;
        extent = sat_add(sat_mul(a.count - 1, a.stride), extent);
    }
    return true;
}

// The element offsets of an attention output (batch, heads, len, head_dim) at `stride`, sorted; empty when there would
// be more than 2^16 of them.
std::vector<int64_t> element_offsets(const kiln_attention_desc& d, const int64_t* stride, int64_t len) {
    std::vector<int64_t> out;
    if (product({d.batch, d.heads, len, d.head_dim}).elems > (int64_t(1) << 16)) return out;
    for (int64_t b = 0; b < d.batch; ++b)
        for (int64_t h = 0; h < d.heads; ++h)
            for (int64_t t = 0; t < len; ++t)
                for (int64_t e = 0; e < d.head_dim; ++e)
                    out.push_back(b * stride[0] + h * stride[1] + t * stride[2] + e);
    std::sort(out.begin(), out.end());
    return out;
}

// One operand's strides: the layouts a transformer passes (contiguous, token-major, a packed QKV projection, one K/V
// head shared by every head) and now and then anything.
void pick_strides(State& s, const kiln_attention_desc& d, int64_t len, int64_t* stride) {
    const int64_t h = std::max<int64_t>(d.heads, 0), t = std::max<int64_t>(len, 0);
    const int64_t dim = std::max<int64_t>(d.head_dim, 0), hd = sat_mul(h, dim);
    switch (s.in.u8() % 8) {
        case 0: case 1: case 2:  // (batch, heads, len, head_dim)
            stride[0] = sat_mul(h, sat_mul(t, dim)), stride[1] = sat_mul(t, dim), stride[2] = dim;
            break;
        case 3:  // (batch, len, heads, head_dim)
            stride[0] = sat_mul(t, hd), stride[1] = dim, stride[2] = hd;
            break;
        case 4:  // (batch, len, 3, heads, head_dim): one of q, k, v of a packed projection
            stride[0] = sat_mul(t, sat_mul(3, hd)), stride[1] = dim, stride[2] = sat_mul(3, hd);
            break;
        case 5:  // every head reads one head's rows
            stride[0] = sat_mul(t, dim), stride[1] = 0, stride[2] = dim;
            break;
        case 6:  // padded rows
            stride[0] = sat_mul(h, sat_mul(t, sat_add(dim, 3))), stride[1] = sat_mul(t, sat_add(dim, 3)),
            stride[2] = sat_add(dim, 3);
            break;
        default:
            for (int i = 0; i < 3; ++i) stride[i] = s.in.one_in(2) ? s.in.size() : (int64_t)s.in.u8();
            break;
    }
}

}  // namespace

// fp32 <-> bf16 (n). A successful fp32 -> bf16 call whose output does not alias its input is checked against
// kernels/common/bf16.h element by element: the conversion has one right answer.
void call_convert(State& s) {
    const bool widen = s.in.one_in(2);
    Call c(s, widen ? "kiln_convert_bf16_to_f32" : "kiln_convert_f32_to_bf16");
    kiln_context* ctx = pick_context(s, c);
    const int64_t n = s.in.size();
    const int64_t e = c.extent({n});
    c.need(e, 4), c.need(e, 2);
    c.work({e});
    if (!c.runnable()) return;
    if (widen) {
        const kiln_bf16* x = bf16_in(s, c, "x", e);
        float* y = c.out<float>("y", e);
        const kiln_status st = c.call(kiln_convert_bf16_to_f32, ctx, x, y, n);
        if (st == KILN_OK && x && y && (const void*)x != (const void*)y)  // distinct pointers: distinct blocks
            for (int64_t i = 0; i < n; ++i) {
                const uint32_t want = (uint32_t)x[i] << 16;
                if (std::memcmp(&y[i], &want, 4) != 0) finding("a widened value is not the bf16 bits << 16", c.op());
            }
        return;
    }
    const float* x = c.in<float>("x", e);
    kiln_bf16* y = c.out<kiln_bf16>("y", e);
    const kiln_status st = c.call(kiln_convert_f32_to_bf16, ctx, x, y, n);
    if (st == KILN_OK && x && y && (const void*)x != (const void*)y)
        for (int64_t i = 0; i < n; ++i)
            if (y[i] != f32_to_bf16(x[i])) finding("a rounded value differs from kernels/common/bf16.h", c.op());
}

// Fused attention, forward and backward, f32 and bf16.
void call_attention(State& s) {
    static const char* const kNames[] = {"kiln_attention_forward_f32", "kiln_attention_backward_f32",
                                         "kiln_attention_forward_bf16", "kiln_attention_backward_bf16"};
    const int which = s.in.u8() % 4;
    const bool backward = which & 1, bf16 = which >= 2;
    const int64_t elem = bf16 ? 2 : 4;
    Call c(s, kNames[which]);
    kiln_context* ctx = pick_context(s, c);
    kiln_attention_desc d{};
    d.batch = s.in.size(), d.heads = s.in.size(), d.q_len = s.in.size();
    d.kv_len = s.in.one_in(3) ? d.q_len : s.in.size();
    const uint8_t hk = s.in.u8();
    d.head_dim = hk < 200 ? 1 + hk % 16 : hk < 230 ? 1 + s.in.u8() % 128 : hk < 240 ? 128 : s.in.size();
    pick_strides(s, d, d.q_len, d.q_stride);
    pick_strides(s, d, d.kv_len, d.k_stride);
    if (s.in.one_in(2)) std::memcpy(d.v_stride, d.k_stride, sizeof d.v_stride);
    else pick_strides(s, d, d.kv_len, d.v_stride);
    if (s.in.one_in(2)) std::memcpy(d.o_stride, d.q_stride, sizeof d.o_stride);
    else pick_strides(s, d, d.q_len, d.o_stride);
    d.scale = s.in.one_in(5) ? s.in.real() : 1.0f / std::sqrt((float)std::clamp<int64_t>(d.head_dim, 1, 128));
    d.causal = s.in.one_in(10) ? s.in.i32() : s.in.u8() & 1;
    const uint8_t pk = s.in.u8();
    d.dropout = pk < 128 ? 0.0f : pk < 200 ? (float)(pk % 10) / 10.0f : s.in.real();
    d.seed = s.in.u64(), d.offset = s.in.one_in(2) ? 0 : s.in.u64();
    const kiln_attention_desc* dp = c.given("desc", Use::handle, s.in.one_in(40) ? nullptr : &d);

    // What kiln.h forbids: negative sizes, head_dim outside [1, 128], dropout outside [0, 1), negative strides, a
    // non-finite scale, causal other than 0 or 1, and sizes whose spans (or the count of weights the dropout stream
    // numbers) no 64-bit count holds. (A null desc is the oracles' to judge.) A zero length makes the call a no-op.
    if (!std::isfinite(d.scale) || (d.causal != 0 && d.causal != 1)) c.forbid();
    if (d.q_len == 0 || d.kv_len == 0) c.no_op();
    if (d.batch < 0 || d.heads < 0 || d.q_len < 0 || d.kv_len < 0) c.forbid();
    if (d.head_dim < 1 || d.head_dim > 128) c.forbid();
    if (!(d.dropout >= 0.0f && d.dropout < 1.0f)) c.forbid();
    for (const int64_t* st : {d.q_stride, d.k_stride, d.v_stride, d.o_stride})
        for (int i = 0; i < 3; ++i)
            if (st[i] < 0) c.forbid();
    const int64_t nq = attention_span(d, d.q_stride, d.q_len), nk = attention_span(d, d.k_stride, d.kv_len);
    const int64_t nv = attention_span(d, d.v_stride, d.kv_len), no = attention_span(d, d.o_stride, d.q_len);
    // A call with no work reads no length, so kv_lengths holds no element then: a huge batch beside heads = 0 is
    // valid, though its (batch) int32 array could not exist. With work, such a batch overflows lse first.
    const bool has_work = d.batch > 0 && d.heads > 0 && d.q_len > 0 && d.kv_len > 0;
    const int64_t nl = c.extent({d.batch, d.heads, d.q_len}), nb = has_work ? d.batch : 0;
    const Extent weights = product({d.batch, d.heads, d.q_len, d.kv_len});
    if (weights.elems == kHuge) c.forbid();
    c.need(nq, elem), c.need(nk, elem), c.need(nv, elem), c.need(no, elem), c.need(nl, 4), c.need(nb, 4);
    if (backward) c.need(no, elem), c.need(nq, elem), c.need(nk, elem), c.need(nv, elem);
    const Extent flops = product({d.batch, d.heads, d.q_len, d.kv_len, std::min<int64_t>(d.head_dim, 128)});
    for (int i = 0; i < (backward ? 5 : 2); ++i) c.work(flops);
    if (!c.runnable()) return;

    // Lengths: in [0, kv_len] (kiln.h's range) or any int32; the CPU backend reads them on the host.
    const int32_t* lengths =
        s.in.one_in(3) ? nullptr : c.opt_in<int32_t>("kv_lengths", nb, as_kind(sat_add(d.kv_len, 1)));
    // Read just before the call, once every operand is filled (a bf16 operand may be refilled over the lengths).
    auto forbid_shared_outputs_or_bad_lengths = [&](const void* dq, const void* dk, const void* dv) {
        if (!has_work || c.invalid()) return;
        if (lengths && !c.oversized())  // a CPU context refuses a length outside [0, kv_len]
            for (int64_t b = 0; b < nb; ++b)
                if (lengths[b] < 0 || lengths[b] > d.kv_len) c.forbid();
        if (!backward && !distinct_elements(d, d.o_stride, d.q_len)) c.forbid();
        if ((dq && !distinct_elements(d, d.q_stride, d.q_len)) || (dk && !distinct_elements(d, d.k_stride, d.kv_len)) ||
            (dv && !distinct_elements(d, d.v_stride, d.kv_len)))
            c.forbid();
    };
    // One text for both element types: `in` makes an input operand of type T, and forward/backward are the entries.
    auto run = [&](auto in, auto forward, auto backward_entry) {
        using T = std::remove_const_t<std::remove_pointer_t<decltype(in("q", nq))>>;
        const T* q = in("q", nq);
        const T* k = in("k", nk);
        const T* v = in("v", nv);
        if (!backward) {
            T* o = c.out<T>("o", no);
            forbid_shared_outputs_or_bad_lengths(nullptr, nullptr, nullptr);
            c.call(forward, ctx, dp, q, k, v, lengths, o, c.opt_out<float>("lse", nl));
            return;
        }
        const T* o = in("o", no);
        const T* dout = in("dout", no);
        const float* lse = c.in<float>("lse", nl);
        T* dq = s.in.one_in(5) ? nullptr : c.opt_out<T>("dq", nq);
        T* dk = s.in.one_in(5) ? nullptr : c.opt_out<T>("dk", nk);
        T* dv = s.in.one_in(5) ? nullptr : c.opt_out<T>("dv", nv);
        forbid_shared_outputs_or_bad_lengths(dq, dk, dv);
        if (c.call(backward_entry, ctx, dp, q, k, v, o, dout, lse, lengths, dq, dk, dv) != KILN_OK) return;

        // Once more, now and then (by the seed's low bits: no input byte is read, so the corpus decodes as it was
        // minimized), self-attention (kv_len = q_len) on fresh zeroed inputs with dq, dk and dv `step` elements apart
        // in one fresh buffer, at q's strides or at a packed projection's (b, t, 3, h, d): heads x head_dim is the
        // packed gradient's step, other steps make two of them share or stagger elements. kiln.h lets them share a
        // buffer at the same strides and lengths, each on elements of its own: an overlap otherwise makes the call
        // invalid, and a valid one must run. Shared elements are found by listing them, independently of core.
        if ((d.seed & 7) != 0 || !has_work) return;
        kiln_attention_desc pd = d;
        pd.kv_len = d.q_len;
        const int64_t hd = sat_mul(d.heads, d.head_dim);
        if ((d.seed >> 3) & 1) {
            const int64_t packed[3] = {sat_mul(d.q_len, sat_mul(3, hd)), d.head_dim, sat_mul(3, hd)};
            std::memcpy(pd.q_stride, packed, sizeof packed);
        }
        std::memcpy(pd.k_stride, pd.q_stride, sizeof pd.k_stride);
        std::memcpy(pd.v_stride, pd.q_stride, sizeof pd.v_stride);
        const int64_t token_major[3] = {sat_mul(d.q_len, hd), d.head_dim, hd};
        std::memcpy(pd.o_stride, token_major, sizeof token_major);
        const int64_t step = (d.seed >> 4) & 1 ? hd : (int64_t)((d.seed >> 5) % 64);
        const int64_t span = attention_span(pd, pd.q_stride, pd.q_len);
        const int64_t span_o = attention_span(pd, pd.o_stride, pd.q_len);
        const int64_t total = sat_add(sat_mul(2, step), span);
        if (sat_mul(sat_add(sat_mul(4, span), sat_add(total, span_o)), elem) > kMaxCallBytes ||
            product({pd.batch, pd.heads, pd.q_len, pd.q_len, pd.head_dim}).elems > kMaxWork)
            return;
        Call p(s, c.op());
        if (!distinct_elements(pd, pd.q_stride, pd.q_len)) p.forbid();
        if (step < span) {  // they overlap: each must keep elements of its own (dq-dk, dk-dv at step, dq-dv at 2 step)
            const std::vector<int64_t> mine = element_offsets(pd, pd.q_stride, pd.q_len);
            if (mine.empty()) return;  // too many to list: no judgement
            for (int64_t off : mine)
                if (std::binary_search(mine.begin(), mine.end(), off + step) ||
                    std::binary_search(mine.begin(), mine.end(), off + 2 * step)) {
                    p.forbid();
                    break;
                }
        }
        auto zeros = [&](int64_t n, int64_t bytes_each) {
            void* b = p.fresh_block(sat_mul(n, bytes_each));
            std::memset(b, 0, (size_t)sat_mul(n, bytes_each));
            return b;
        };
        const T* pq = static_cast<const T*>(zeros(span, elem));
        const T* pk = static_cast<const T*>(zeros(span, elem));
        const T* pv = static_cast<const T*>(zeros(span, elem));
        const T* po = static_cast<const T*>(zeros(span_o, elem));
        const T* pdout = static_cast<const T*>(zeros(span_o, elem));
        const int64_t nlse = product({pd.batch, pd.heads, pd.q_len}).elems;
        const float* plse = static_cast<const float*>(zeros(nlse, 4));
        T* g = static_cast<T*>(p.fresh_block(sat_mul(total, elem)));
        p.declare("ctx", Use::handle, ctx, 1, 0);
        p.given("desc", Use::handle, &pd);
        p.given("q", Use::in, pq, span), p.given("k", Use::in, pk, span), p.given("v", Use::in, pv, span);
        p.given("o", Use::in, po, span_o), p.given("dout", Use::in, pdout, span_o);
        p.given("lse", Use::in, plse, nlse);
        p.given("dq", Use::opt_out, g, span), p.given("dk", Use::opt_out, g + step, span);
        p.given("dv", Use::opt_out, g + 2 * step, span);
        const kiln_status st = p.call(backward_entry, ctx, &pd, pq, pk, pv, po, pdout, plse, nullptr, g, g + step,
                                      g + 2 * step);
        if (!p.invalid() && st != KILN_OK && st != KILN_ERR_OUT_OF_MEMORY)
            finding("gradients sharing one buffer on elements of their own were refused", c.op());
    };
    if (bf16) {
        run([&](const char* name, int64_t n) { return bf16_in(s, c, name, n); }, kiln_attention_forward_bf16,
            kiln_attention_backward_bf16);
    } else {
        run([&](const char* name, int64_t n) { return c.in<float>(name, n); }, kiln_attention_forward_f32,
            kiln_attention_backward_f32);
    }
}

// Layer norm over the last dimension of (rows, cols), forward and backward; every optional operand now and then NULL.
void call_layer_norm(State& s) {
    const bool backward = s.in.one_in(2);
    Call c(s, backward ? "kiln_layer_norm_backward_f32" : "kiln_layer_norm_f32");
    kiln_context* ctx = pick_context(s, c);
    const int64_t rows = s.in.size(), cols = s.in.size();
    const int64_t n = c.extent({rows, cols}), nc = c.extent({cols}), nr = c.extent({rows});
    for (int i = 0; i < 3; ++i) c.need(n, 4);
    for (int i = 0; i < 3; ++i) c.need(nc, 4);
    c.need(nr, 4), c.need(nr, 4);
    c.work({n});
    c.work({n});
    const float eps = s.in.one_in(3) ? s.in.real() : 1e-5f;
    if (!backward && !(eps > 0.0f && std::isfinite(eps))) c.forbid();
    if (rows > 0 && cols == 0) c.forbid();  // refused by core though kiln.h does not say so: a row of no values
    if (!c.runnable()) return;
    const float* x = c.in<float>("x", n);
    auto optional_in = [&](const char* name, int64_t k) { return s.in.one_in(4) ? nullptr : c.opt_in<float>(name, k); };
    auto optional_out = [&](const char* name, int64_t k) { return s.in.one_in(4) ? nullptr : c.opt_out<float>(name, k); };
    if (!backward) {
        const float* gamma = optional_in("gamma", nc);
        const float* beta = optional_in("beta", nc);
        float* y = s.in.one_in(4) ? c.given("y", Use::out, const_cast<float*>(x), n) : c.out<float>("y", n);
        float* mean = optional_out("mean", nr);
        float* rstd = optional_out("rstd", nr);
        c.call(kiln_layer_norm_f32, ctx, x, gamma, beta, y, mean, rstd, rows, cols, eps);
        return;
    }
    const float* dy = c.in<float>("dy", n);
    const float* gamma = optional_in("gamma", nc);
    const float* mean = c.in<float>("mean", nr);
    const float* rstd = c.in<float>("rstd", nr);
    float* dx = optional_out("dx", n);
    float* dgamma = optional_out("dgamma", nc);
    float* dbeta = optional_out("dbeta", nc);
    c.call(kiln_layer_norm_backward_f32, ctx, x, dy, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols);
}

// Embedding lookups (indices in range or anything: outside [0, vocab) gives NaN rows, and is ignored by the
// backward), and the sinusoidal positions (any start, the int64 edges included).
void call_embedding(State& s) {
    static const char* const kNames[] = {"kiln_embedding_f32", "kiln_embedding_backward_f32",
                                         "kiln_sinusoidal_positions_f32"};
    const int which = s.in.u8() % 3;
    Call c(s, kNames[which]);
    kiln_context* ctx = pick_context(s, c);
    if (which == 2) {
        const int64_t len = s.in.size(), dim = s.in.size();
        const int64_t start = s.in.one_in(3) ? s.in.size() : (int64_t)s.in.u8();
        if (start < 0 || (len >= 0 && start > INT64_MAX - len)) c.forbid();  // kiln.h: start >= 0, no overflow
        const int64_t n = c.extent({len, dim});
        c.need(n, 4);
        c.work({n});
        c.work({n});
        if (!c.runnable()) return;
        c.call(kiln_sinusoidal_positions_f32, ctx, c.out<float>("y", n), len, dim, start);
        return;
    }
    const int64_t n = s.in.size(), vocab = s.in.size(), dim = s.in.size();
    const int64_t ni = c.extent({n}), ny = c.extent({n, dim}), nw = c.extent({vocab, dim});
    if (which == 1 && n >= ((int64_t)1 << 31)) c.forbid();  // kiln.h: the backward takes n < 2^31
    c.need(ni, 4), c.need(ny, 4), c.need(nw, 4);
    c.work({ny});
    c.work({nw});
    if (!c.runnable()) return;
    const int32_t* indices = c.in<int32_t>("indices", ni, as_kind(vocab));
    if (which == 0) {
        const float* weight = c.in<float>("weight", nw);
        c.call(kiln_embedding_f32, ctx, indices, weight, c.out<float>("y", ny), n, vocab, dim);
    } else {
        const float* dy = c.in<float>("dy", ny);
        c.call(kiln_embedding_backward_f32, ctx, indices, dy, c.opt_out<float>("dweight", nw), n, vocab, dim);
    }
}

// y = gelu(x + bias) over (rows, cols) and its backward (either gradient may be NULL).
void call_bias_gelu(State& s) {
    const bool backward = s.in.one_in(2);
    Call c(s, backward ? "kiln_bias_gelu_backward_f32" : "kiln_bias_gelu_f32");
    kiln_context* ctx = pick_context(s, c);
    const int64_t rows = s.in.size(), cols = s.in.size();
    const int64_t n = c.extent({rows, cols}), nc = c.extent({cols});
    for (int i = 0; i < 3; ++i) c.need(n, 4);
    c.need(nc, 4), c.need(nc, 4);
    c.work({n});
    if (!c.runnable()) return;
    const float* x = c.in<float>("x", n);
    // With no rows nothing reads the bias (the backward still writes dbias's zeros), so it may be NULL then.
    const float* bias = rows == 0 ? c.opt_in<float>("bias", nc) : c.in<float>("bias", nc);
    if (!backward) {
        float* y = s.in.one_in(4) ? c.given("y", Use::out, const_cast<float*>(x), n) : c.out<float>("y", n);
        c.call(kiln_bias_gelu_f32, ctx, x, bias, y, rows, cols);
        return;
    }
    const float* dy = c.in<float>("dy", n);
    float* dx = s.in.one_in(4) ? nullptr : c.opt_out<float>("dx", n);
    float* dbias = s.in.one_in(4) ? nullptr : c.opt_out<float>("dbias", nc);
    c.call(kiln_bias_gelu_backward_f32, ctx, x, bias, dy, dx, dbias, rows, cols);
}

// kiln_copy_device_2d: rows of width bytes between pitched regions (on a CPU context, host memory). Sizes are size_t:
// a negative fuzzed size arrives as a huge one. kiln.h forbids pitches below the width when rows > 1 and overlapping
// regions; a span no 64-bit count holds cannot be a buffer.
void call_copy_2d(State& s) {
    Call c(s, "kiln_copy_device_2d");
    kiln_context* ctx = pick_context(s, c);
    const int64_t width = s.in.size(), rows = s.in.size();
    auto pitch = [&] { return s.in.one_in(5) ? s.in.size() : sat_add(std::max<int64_t>(width, 0), s.in.u8() % 5); };
    const int64_t dst_pitch = pitch(), src_pitch = pitch();
    if (width < 0 || rows < 0 || dst_pitch < 0 || src_pitch < 0) c.forbid();  // more than any buffer as size_t
    if (rows > 1 && (dst_pitch < width || src_pitch < width)) c.forbid();
    auto span = [&](int64_t p) -> int64_t {
        if (width <= 0 || rows <= 0) return 0;
        return sat_add(sat_mul(rows - 1, std::max<int64_t>(p, 0)), width);
    };
    const int64_t nd = span(dst_pitch), ns = span(src_pitch);
    c.need(nd, 1), c.need(ns, 1);
    c.work({sat_mul(std::max<int64_t>(width, 0), std::max<int64_t>(rows, 0))});
    const bool same = s.in.one_in(8);
    if (same && nd > 0 && ns > 0) c.forbid();  // one block as both: the regions overlap
    if (!c.runnable()) return;
    char* dst = c.out<char>("dst", same ? std::max(nd, ns) : nd);
    const char* src = same ? c.given("src", Use::in, dst, ns) : c.in<char>("src", ns);
    c.call(kiln_copy_device_2d, ctx, dst, (size_t)dst_pitch, src, (size_t)src_pitch, (size_t)width, (size_t)rows);
}

}  // namespace kiln::fuzz

// Tests of the attention entries on a CPU context: forward (o, lse) and backward (dq, dk, dv) against a double-precision
// reference that builds the whole score matrix, its softmax, the masks and the dropout mask (from kiln_dropout_f32, the
// documented element rule), run through every kernel set this CPU has (portable and AVX-512) at T != S, T = 1, odd and
// prime lengths, head_dim 1 to 128, causal, key lengths (one of them 0), dropout, the packed QKV layout and strides with
// gaps (whose elements must stay untouched); central finite differences of the double reference on tiny cases; the
// bf16 entries against the fp32 path; multi-query attention (K, V shared by the heads); validation and no-ops.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "common/bf16.h"
#include "cpu/attention_tiles.h"
#include "cpu/simd.h"
#include "kiln/kiln.h"

using kiln::test::grad_matches;
using kiln::test::message_has;
using kiln::test::uniform;
namespace detail = kiln::cpu::attention_detail;

namespace {

kiln_context* g_ctx = nullptr;
const double kNegInf = -std::numeric_limits<double>::infinity();
const float kSentinel = 12345.0f;  // fills every buffer element that no logical element maps to

// ---- a case and its buffers -------------------------------------------------------------------------------------

enum class Layout { Contiguous, Gaps, PackedQkv };

struct Case {
    std::string name;
    int64_t B, H, T, S, D;
    bool causal = false;
    std::vector<int32_t> lengths;  // empty: no key lengths
    float dropout = 0.0f;
    uint64_t seed = 0, offset = 0;
    Layout layout = Layout::Contiguous;
    float scale = 0.0f;  // 0: 1 / sqrt(D)
    bool nan_tail = false;  // K and V hold NaN at and past each batch's length: masked, so never to be read
};

// One operand: a buffer and the element strides {batch, head, token} of its (B, H, len, D) view at `base`.
struct Operand {
    std::vector<float>* buf;
    int64_t base, stride[3], len;
};

// The buffers of a case: q, k, v (inputs), o and dout at o's layout; the gradients in buffers laid out like q, k, v.
struct Buffers {
    kiln_attention_desc d{};
    std::vector<float> qkv, q, k, v, o, dout, dqkv, dq, dk, dv;
    Operand Q, K, V, O, DOUT, DQ, DK, DV;
};

// Strides and sizes of the (B, H, len, D) view: contiguous, or with gaps after every row, head and batch.
void strides_for(const Case& c, int64_t len, bool gaps, int64_t* stride, int64_t* size) {
    const int64_t row = c.D + (gaps ? 5 : 0), head = len * row + (gaps ? 7 : 0), batch = c.H * head + (gaps ? 11 : 0);
    stride[0] = batch, stride[1] = head, stride[2] = row;
    *size = c.B * batch;
}

Buffers make_buffers(const Case& c) {
    Buffers x;
    kiln_attention_desc& d = x.d;
    d.batch = c.B, d.heads = c.H, d.q_len = c.T, d.kv_len = c.S, d.head_dim = c.D;
    d.scale = c.scale != 0.0f ? c.scale : 1.0f / std::sqrt((float)c.D);
    d.causal = c.causal ? 1 : 0;
    d.dropout = c.dropout, d.seed = c.seed, d.offset = c.offset;
    auto single = [&](std::vector<float>& buf, Operand& op, int64_t len, uint64_t seed) {
        int64_t size;
        strides_for(c, len, c.layout == Layout::Gaps, op.stride, &size);
        buf.assign((size_t)size, kSentinel);
        op.buf = &buf, op.base = 0, op.len = len;
        if (seed) {  // fill the logical elements
            const std::vector<float> r = uniform((size_t)(c.B * c.H * len * c.D), seed, -1.5f, 1.5f);
            size_t i = 0;
            for (int64_t b = 0; b < c.B; ++b)
                for (int64_t h = 0; h < c.H; ++h)
                    for (int64_t t = 0; t < len; ++t)
                        for (int64_t e = 0; e < c.D; ++e)
                            buf[(size_t)(b * op.stride[0] + h * op.stride[1] + t * op.stride[2] + e)] = r[i++];
        }
    };
    if (c.layout == Layout::PackedQkv) {  // (B, T, 3, H, D) in one buffer; o and dout token-major (B, T, H, D)
        const int64_t HD = c.H * c.D, token = 3 * HD;
        const std::vector<float> r = uniform((size_t)(c.B * c.T * token), 11, -1.5f, 1.5f);
        x.qkv = r;
        x.dqkv.assign(r.size(), kSentinel);
        for (int i = 0; i < 3; ++i) {
            Operand* in[3] = {&x.Q, &x.K, &x.V};
            Operand* grad[3] = {&x.DQ, &x.DK, &x.DV};
            *in[i] = Operand{&x.qkv, i * HD, {c.T * token, c.D, token}, c.T};
            *grad[i] = Operand{&x.dqkv, i * HD, {c.T * token, c.D, token}, c.T};
        }
        const int64_t o_size = c.B * c.T * HD;
        x.o.assign((size_t)o_size, kSentinel);
        x.O = Operand{&x.o, 0, {c.T * HD, c.D, HD}, c.T};
        const std::vector<float> g = uniform((size_t)o_size, 14, -1, 1);
        x.dout = g;
        x.DOUT = Operand{&x.dout, 0, {c.T * HD, c.D, HD}, c.T};
    } else {
        single(x.q, x.Q, c.T, 11);
        single(x.k, x.K, c.S, 12);
        single(x.v, x.V, c.S, 13);
        if (c.nan_tail)
            for (const Operand* op : {&x.K, &x.V})
                for (int64_t b = 0; b < c.B; ++b)
                    for (int64_t h = 0; h < c.H; ++h)
                        for (int64_t t = c.lengths[(size_t)b]; t < c.S; ++t)
                            for (int64_t e = 0; e < c.D; ++e)
                                (*op->buf)[(size_t)(b * op->stride[0] + h * op->stride[1] + t * op->stride[2] + e)] = NAN;
        single(x.o, x.O, c.T, 0);
        single(x.dout, x.DOUT, c.T, 14);
        single(x.dq, x.DQ, c.T, 0);
        single(x.dk, x.DK, c.S, 0);
        single(x.dv, x.DV, c.S, 0);
    }
    for (int i = 0; i < 3; ++i) {
        d.q_stride[i] = x.Q.stride[i], d.k_stride[i] = x.K.stride[i], d.v_stride[i] = x.V.stride[i];
        d.o_stride[i] = x.O.stride[i];
    }
    return x;
}

Case shape(const char* name, int64_t B, int64_t H, int64_t T, int64_t S, int64_t D) {
    Case c;
    c.name = name, c.B = B, c.H = H, c.T = T, c.S = S, c.D = D;
    return c;
}

float* at(const Operand& op) { return op.buf->data() + op.base; }

// The logical (B, H, len, D) elements of an operand, densely, in double.
std::vector<double> gather(const Case& c, const Operand& op) {
    std::vector<double> out;
    out.reserve((size_t)(c.B * c.H * op.len * c.D));
    for (int64_t b = 0; b < c.B; ++b)
        for (int64_t h = 0; h < c.H; ++h)
            for (int64_t t = 0; t < op.len; ++t)
                for (int64_t e = 0; e < c.D; ++e)
                    out.push_back((*op.buf)[(size_t)(op.base + b * op.stride[0] + h * op.stride[1] + t * op.stride[2] + e)]);
    return out;
}

// Every buffer element that no logical element of the given operands maps to still holds the sentinel.
bool untouched_outside(const std::vector<float>& buf, std::initializer_list<const Operand*> ops, int64_t B, int64_t H,
                       int64_t D) {
    std::vector<char> mapped(buf.size(), 0);
    for (const Operand* op : ops)
        for (int64_t b = 0; b < B; ++b)
            for (int64_t h = 0; h < H; ++h)
                for (int64_t t = 0; t < op->len; ++t)
                    for (int64_t e = 0; e < D; ++e)
                        mapped[(size_t)(op->base + b * op->stride[0] + h * op->stride[1] + t * op->stride[2] + e)] = 1;
    for (size_t i = 0; i < buf.size(); ++i)
        if (!mapped[i] && buf[i] != kSentinel) {
            std::printf("  element %zu outside the view was written: %g\n", i, buf[i]);
            return false;
        }
    return true;
}

// ---- the double-precision reference ------------------------------------------------------------------------------

struct Reference {
    std::vector<double> o, lse, dq, dk, dv;
};

// Explicit scores, softmax over the visible keys, dropout factors z (B H T S, or empty), o = (P z) V; with dout,
// the gradients through the softmax Jacobian: dA = z (dout . v), dx = P (dA - sum P dA), dq = scale dx K, ...
Reference reference(const Case& c, float scale, const std::vector<double>& q, const std::vector<double>& k,
                    const std::vector<double>& v, const std::vector<float>& z, const std::vector<double>* dout) {
    const int64_t T = c.T, S = c.S, D = c.D;
    Reference r;
    r.o.assign((size_t)(c.B * c.H * T * D), 0.0);
    r.lse.assign((size_t)(c.B * c.H * T), kNegInf);
    if (dout) {
        r.dq.assign(r.o.size(), 0.0);
        r.dk.assign((size_t)(c.B * c.H * S * D), 0.0);
        r.dv.assign(r.dk.size(), 0.0);
    }
    std::vector<double> x((size_t)S), p((size_t)S), da((size_t)S);
    for (int64_t b = 0; b < c.B; ++b) {
        const int64_t len = c.lengths.empty() ? S : c.lengths[(size_t)b];
        for (int64_t h = 0; h < c.H; ++h) {
            const int64_t bh = b * c.H + h;
            const double* qh = q.data() + bh * T * D;
            const double* kh = k.data() + bh * S * D;
            const double* vh = v.data() + bh * S * D;
            for (int64_t t = 0; t < T; ++t) {
                double m = kNegInf;
                for (int64_t s = 0; s < S; ++s) {
                    const bool visible = s < len && (!c.causal || s <= t + S - T);
                    double dotp = 0;
                    for (int64_t e = 0; e < D; ++e) dotp += qh[t * D + e] * kh[s * D + e];
                    x[s] = visible ? scale * dotp : kNegInf;
                    m = std::fmax(m, x[s]);
                }
                if (m == kNegInf) continue;  // no visible key: o = 0, lse = -inf, gradients 0
                double sum = 0;
                for (int64_t s = 0; s < S; ++s) sum += x[s] == kNegInf ? 0.0 : std::exp(x[s] - m);
                r.lse[(size_t)(bh * T + t)] = m + std::log(sum);
                auto zf = [&](int64_t s) { return z.empty() ? 1.0 : (double)z[(size_t)((bh * T + t) * S + s)]; };
                for (int64_t s = 0; s < S; ++s) {
                    p[s] = x[s] == kNegInf ? 0.0 : std::exp(x[s] - m) / sum;
                    for (int64_t e = 0; e < D; ++e) r.o[(size_t)((bh * T + t) * D + e)] += p[s] * zf(s) * vh[s * D + e];
                }
                if (!dout) continue;
                const double* g = dout->data() + (bh * T + t) * D;
                double inner = 0;
                for (int64_t s = 0; s < S; ++s) {
                    double gv = 0;
                    for (int64_t e = 0; e < D; ++e) gv += g[e] * vh[s * D + e];
                    da[s] = zf(s) * gv;
                    inner += p[s] * da[s];
                }
                for (int64_t s = 0; s < S; ++s) {
                    const double dx = p[s] * (da[s] - inner);
                    for (int64_t e = 0; e < D; ++e) {
                        r.dq[(size_t)((bh * T + t) * D + e)] += scale * dx * kh[s * D + e];
                        r.dk[(size_t)((bh * S + s) * D + e)] += scale * dx * qh[t * D + e];
                        r.dv[(size_t)((bh * S + s) * D + e)] += p[s] * zf(s) * g[e];
                    }
                }
            }
        }
    }
    return r;
}

// The dropout factors of every weight (B H T S): kiln_dropout_f32 of ones with the case's stream.
std::vector<float> dropout_factors(const Case& c) {
    if (c.dropout == 0.0f) return {};
    const int64_t n = c.B * c.H * c.T * c.S;
    std::vector<float> ones((size_t)n, 1.0f), z((size_t)n);
    EXPECT(kiln_dropout_f32(g_ctx, ones.data(), z.data(), n, c.dropout, c.seed, c.offset) == KILN_OK);
    return z;
}

// |got - want| <= tol (rms(want) + |want|) elementwise; -inf must match -inf.
bool close(const std::string& what, const std::vector<double>& got, const std::vector<double>& want, double tol) {
    if (got.size() != want.size()) {
        std::printf("  %s: %zu elements, want %zu\n", what.c_str(), got.size(), want.size());
        return false;
    }
    double ss = 0;
    size_t finite = 0;
    for (double w : want)
        if (std::isfinite(w)) ss += w * w, ++finite;
    // The scale of the case: the RMS of the reference, but at least 0.05, for a gradient that is 0 by cancellation of
    // terms of order 10 (T = S = 1: dout . v - dout . o = 0, two fp32 sums of 64 products in different orders).
    const double rms = std::fmax(finite ? std::sqrt(ss / (double)finite) : 0.0, 0.05);
    for (size_t i = 0; i < got.size(); ++i) {
        if (std::isinf(want[i]) && got[i] == want[i]) continue;
        if (!(std::fabs(got[i] - want[i]) <= tol * (rms + std::fabs(want[i])))) {
            std::printf("  %s: [%zu] got %.9g, want %.9g (rms %.3g)\n", what.c_str(), i, got[i], want[i], rms);
            return false;
        }
    }
    return true;
}

std::vector<double> widen(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

// ---- the cases -----------------------------------------------------------------------------------------------------

std::vector<const detail::Kernels*> kernel_sets() {
    std::vector<const detail::Kernels*> sets = {&detail::portable_kernels()};
    if (detail::avx2_available()) sets.push_back(&detail::avx2_kernels());
    if (kiln::cpu::isa() == kiln::cpu::Isa::Avx512) sets.push_back(&detail::avx512_kernels());
    return sets;
}

void forward_and_backward_match_the_reference(const Case& c) {
    const std::vector<float> z = dropout_factors(c);
    for (const detail::Kernels* ks : kernel_sets()) {
        const std::string what = c.name + " [" + ks->isa + "]";
        Buffers x = make_buffers(c);
        const kiln_attention_desc& d = x.d;
        std::vector<float> lse((size_t)(c.B * c.H * c.T), kSentinel);
        detail::forward_using(*ks, d, at(x.Q), at(x.K), at(x.V), c.lengths.empty() ? nullptr : c.lengths.data(),
                              at(x.O), lse.data());
        std::vector<double> q = gather(c, x.Q), k = gather(c, x.K), v = gather(c, x.V), g = gather(c, x.DOUT);
        for (std::vector<double>* kv : {&k, &v})  // the reference multiplies masked keys by 0: give it 0 there
            for (double& e : *kv) e = std::isnan(e) ? 0.0 : e;
        const Reference r = reference(c, d.scale, q, k, v, z, &g);
        EXPECT(close(what + " o", gather(c, x.O), r.o, 2e-6));
        EXPECT(close(what + " lse", widen(lse), r.lse, 2e-6));
        EXPECT(untouched_outside(x.o, {&x.O}, c.B, c.H, c.D));

        detail::backward_using(*ks, d, at(x.Q), at(x.K), at(x.V), at(x.O), at(x.DOUT), lse.data(),
                               c.lengths.empty() ? nullptr : c.lengths.data(), at(x.DQ), at(x.DK), at(x.DV));
        EXPECT(close(what + " dq", gather(c, x.DQ), r.dq, 2e-5));
        EXPECT(close(what + " dk", gather(c, x.DK), r.dk, 2e-5));
        EXPECT(close(what + " dv", gather(c, x.DV), r.dv, 2e-5));
        if (c.layout == Layout::PackedQkv) {
            EXPECT(untouched_outside(x.dqkv, {&x.DQ, &x.DK, &x.DV}, c.B, c.H, c.D));
        } else {
            EXPECT(untouched_outside(x.dq, {&x.DQ}, c.B, c.H, c.D));
            EXPECT(untouched_outside(x.dk, {&x.DK}, c.B, c.H, c.D));
            EXPECT(untouched_outside(x.dv, {&x.DV}, c.B, c.H, c.D));
        }
        // Each gradient alone gives the same bits as all three together (they are independent sums).
        Buffers y = make_buffers(c);
        detail::backward_using(*ks, d, at(x.Q), at(x.K), at(x.V), at(x.O), at(x.DOUT), lse.data(),
                               c.lengths.empty() ? nullptr : c.lengths.data(), nullptr, at(y.DK), nullptr);
        EXPECT(gather(c, y.DK) == gather(c, x.DK));
    }
}

// Central differences of sum(R o) of the double reference, against Kiln's fp32 gradients with dout = R.
void gradients_match_finite_differences(const Case& c) {
    const std::vector<float> z = dropout_factors(c);
    Buffers x = make_buffers(c);
    const kiln_attention_desc& d = x.d;
    const int32_t* lengths = c.lengths.empty() ? nullptr : c.lengths.data();
    std::vector<float> lse((size_t)(c.B * c.H * c.T));
    EXPECT(kiln_attention_forward_f32(g_ctx, &d, at(x.Q), at(x.K), at(x.V), lengths, at(x.O), lse.data()) == KILN_OK);
    EXPECT(kiln_attention_backward_f32(g_ctx, &d, at(x.Q), at(x.K), at(x.V), at(x.O), at(x.DOUT), lse.data(), lengths,
                                       at(x.DQ), at(x.DK), at(x.DV)) == KILN_OK);
    const std::vector<double> q = gather(c, x.Q), k = gather(c, x.K), v = gather(c, x.V), g = gather(c, x.DOUT);
    auto loss = [&](const std::vector<double>& qq, const std::vector<double>& kk, const std::vector<double>& vv) {
        const Reference r = reference(c, d.scale, qq, kk, vv, z, nullptr);
        double s = 0;
        for (size_t i = 0; i < r.o.size(); ++i) s += r.o[i] * g[i];
        return s;
    };
    auto as_float = [](const std::vector<double>& a) { return std::vector<float>(a.begin(), a.end()); };
    kiln::test::FiniteDifference fd;
    fd.rtol = 2e-4, fd.atol = 2e-6;
    EXPECT(grad_matches(c.name + " dq", [&](const std::vector<double>& a) { return loss(a, k, v); }, q,
                        as_float(gather(c, x.DQ)), fd));
    EXPECT(grad_matches(c.name + " dk", [&](const std::vector<double>& a) { return loss(q, a, v); }, k,
                        as_float(gather(c, x.DK)), fd));
    EXPECT(grad_matches(c.name + " dv", [&](const std::vector<double>& a) { return loss(q, k, a); }, v,
                        as_float(gather(c, x.DV)), fd));
}

// The bf16 entries: inputs rounded to bf16; outputs are the fp32 path's on the widened inputs, rounded once.
void bf16_entries_round_the_fp32_result_once(const Case& c) {
    Buffers x = make_buffers(c);
    const kiln_attention_desc& d = x.d;
    const int32_t* lengths = c.lengths.empty() ? nullptr : c.lengths.data();
    for (std::vector<float>* buf : {&x.q, &x.k, &x.v, &x.dout, &x.qkv})
        for (float& f : *buf) f = kiln::bf16_to_f32(kiln::f32_to_bf16(f));
    auto to_bf16 = [](const std::vector<float>& f) {
        std::vector<kiln_bf16> h(f.size());
        for (size_t i = 0; i < f.size(); ++i) h[i] = kiln::f32_to_bf16(f[i]);
        return h;
    };
    auto bf = [](std::vector<kiln_bf16>& h, const Operand& op) { return h.data() + op.base; };
    const bool packed = c.layout == Layout::PackedQkv;
    std::vector<kiln_bf16> qh = to_bf16(packed ? x.qkv : x.q), kh = to_bf16(packed ? x.qkv : x.k),
                           vh = to_bf16(packed ? x.qkv : x.v), douth = to_bf16(x.dout), oh(x.o.size()),
                           dqh(packed ? x.dqkv.size() : x.dq.size()), dkh(packed ? 0 : x.dk.size()),
                           dvh(packed ? 0 : x.dv.size());
    std::vector<float> lse((size_t)(c.B * c.H * c.T)), lse_bf((size_t)(c.B * c.H * c.T));
    EXPECT(kiln_attention_forward_f32(g_ctx, &d, at(x.Q), at(x.K), at(x.V), lengths, at(x.O), lse.data()) == KILN_OK);
    EXPECT(kiln_attention_forward_bf16(g_ctx, &d, bf(qh, x.Q), bf(kh, x.K), bf(vh, x.V), lengths, bf(oh, x.O),
                                       lse_bf.data()) == KILN_OK);
    EXPECT(std::memcmp(lse.data(), lse_bf.data(), lse.size() * sizeof(float)) == 0);
    const std::vector<double> o32 = gather(c, x.O);
    bool exact = true, within = true;
    std::vector<kiln_bf16> o_round = to_bf16(x.o);
    for (int64_t b = 0, i = 0; b < c.B; ++b)
        for (int64_t h = 0; h < c.H; ++h)
            for (int64_t t = 0; t < c.T; ++t)
                for (int64_t e = 0; e < c.D; ++e, ++i) {
                    const size_t p = (size_t)(x.O.base + b * x.O.stride[0] + h * x.O.stride[1] + t * x.O.stride[2] + e);
                    exact &= oh[p] == o_round[p];
                    within &= std::fabs(kiln::bf16_to_f32(oh[p]) - o32[(size_t)i]) <= 0x1p-8 * std::fabs(o32[(size_t)i]);
                }
    EXPECT(exact);
    EXPECT(within);

    // Backward: dq, dk, dv at the strides of q, k, v (in the packed layout, one dqkv buffer).
    kiln_bf16* dq_bf = packed ? dqh.data() + x.DQ.base : dqh.data();
    kiln_bf16* dk_bf = packed ? dqh.data() + x.DK.base : dkh.data();
    kiln_bf16* dv_bf = packed ? dqh.data() + x.DV.base : dvh.data();
    EXPECT(kiln_attention_backward_f32(g_ctx, &d, at(x.Q), at(x.K), at(x.V), at(x.O), at(x.DOUT), lse.data(), lengths,
                                       at(x.DQ), at(x.DK), at(x.DV)) == KILN_OK);
    EXPECT(kiln_attention_backward_bf16(g_ctx, &d, bf(qh, x.Q), bf(kh, x.K), bf(vh, x.V), bf(oh, x.O),
                                        douth.data() + x.DOUT.base, lse.data(), lengths, dq_bf, dk_bf, dv_bf) == KILN_OK);
    // The bf16 backward read the rounded o, so its fp32 twin is rerun on that o before comparing bit for bit.
    for (int64_t b = 0; b < c.B; ++b)
        for (int64_t h = 0; h < c.H; ++h)
            for (int64_t t = 0; t < c.T; ++t)
                for (int64_t e = 0; e < c.D; ++e) {
                    const size_t p = (size_t)(x.O.base + b * x.O.stride[0] + h * x.O.stride[1] + t * x.O.stride[2] + e);
                    x.o[p] = kiln::bf16_to_f32(oh[p]);
                }
    EXPECT(kiln_attention_backward_f32(g_ctx, &d, at(x.Q), at(x.K), at(x.V), at(x.O), at(x.DOUT), lse.data(), lengths,
                                       at(x.DQ), at(x.DK), at(x.DV)) == KILN_OK);
    const Operand* grads[3] = {&x.DQ, &x.DK, &x.DV};
    kiln_bf16* got[3] = {dq_bf, dk_bf, dv_bf};
    for (int g = 0; g < 3; ++g) {
        const Operand& op = *grads[g];
        bool same = true;
        for (int64_t b = 0; b < c.B; ++b)
            for (int64_t h = 0; h < c.H; ++h)
                for (int64_t t = 0; t < op.len; ++t)
                    for (int64_t e = 0; e < c.D; ++e) {
                        const int64_t rel = b * op.stride[0] + h * op.stride[1] + t * op.stride[2] + e;
                        same &= got[g][rel] == kiln::f32_to_bf16((*op.buf)[(size_t)(op.base + rel)]);
                    }
        EXPECT(same);
    }
}

// K and V shared by every head (head stride 0): inputs may overlap; the gradients of q are still exact.
void multi_query_heads_share_keys() {
    Case c = shape("multi-query", 2, 4, 9, 11, 16);
    Buffers x = make_buffers(c);
    kiln_attention_desc d = x.d;
    d.k_stride[1] = 0, d.v_stride[1] = 0;  // every head reads head 0's keys and values
    Case shared = c;  // the reference sees the same K, V copied to every head
    std::vector<float> lse((size_t)(c.B * c.H * c.T));
    EXPECT(kiln_attention_forward_f32(g_ctx, &d, at(x.Q), at(x.K), at(x.V), nullptr, at(x.O), lse.data()) == KILN_OK);
    EXPECT(kiln_attention_backward_f32(g_ctx, &d, at(x.Q), at(x.K), at(x.V), at(x.O), at(x.DOUT), lse.data(), nullptr,
                                       at(x.DQ), nullptr, nullptr) == KILN_OK);
    Operand k0 = x.K, v0 = x.V;
    k0.stride[1] = 0, v0.stride[1] = 0;
    const std::vector<double> g = gather(c, x.DOUT);
    const Reference r = reference(shared, d.scale, gather(c, x.Q), gather(c, k0), gather(c, v0), {}, &g);
    EXPECT(close("multi-query o", gather(c, x.O), r.o, 2e-6));
    EXPECT(close("multi-query dq", gather(c, x.DQ), r.dq, 2e-5));
    // A gradient written at a stride-0 head axis would have every head write the same elements: refused.
    EXPECT(kiln_attention_backward_f32(g_ctx, &d, at(x.Q), at(x.K), at(x.V), at(x.O), at(x.DOUT), lse.data(), nullptr,
                                       nullptr, at(x.DK), nullptr) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("share memory"));
}

// Scores that are not finite, by every kernel set: a NaN or +inf score makes the query's output, lse and gradient NaN
// (lse was -inf, hiding the row from a caller merging by lse and zeroing its gradients); all scores -inf is a query
// with no visible key (output 0, lse -inf, gradients 0).
void non_finite_scores() {
    Case c = shape("non-finite scores", 1, 1, 3, 4, 2);
    c.scale = 1.0f;
    for (const detail::Kernels* ks : kernel_sets()) {
        Buffers x = make_buffers(c);
        const float q0[3] = {NAN, INFINITY, -INFINITY};  // every key is (1, 0), so query t's every score is q0[t]
        for (int t = 0; t < 3; ++t) at(x.Q)[t * 2] = q0[t], at(x.Q)[t * 2 + 1] = 0.0f;
        for (int s = 0; s < 4; ++s) at(x.K)[s * 2] = 1.0f, at(x.K)[s * 2 + 1] = 0.0f;
        std::vector<float> lse(3, kSentinel);
        detail::forward_using(*ks, x.d, at(x.Q), at(x.K), at(x.V), nullptr, at(x.O), lse.data());
        detail::backward_using(*ks, x.d, at(x.Q), at(x.K), at(x.V), at(x.O), at(x.DOUT), lse.data(), nullptr, at(x.DQ),
                               nullptr, nullptr);
        for (int t = 0; t < 2; ++t)
            EXPECT(std::isnan(lse[t]) && std::isnan(at(x.O)[t * 2]) && std::isnan(at(x.DQ)[t * 2 + 1]));
        EXPECT(lse[2] == -INFINITY && at(x.O)[4] == 0.0f && at(x.O)[5] == 0.0f && at(x.DQ)[4] == 0.0f);
    }
}

void validation_and_no_ops() {
    Case c = shape("validation", 2, 2, 5, 7, 8);
    Buffers x = make_buffers(c);
    const kiln_attention_desc good = x.d;
    float lse[20];
    auto fwd = [&](const kiln_attention_desc* d, const float* q = nullptr, const int32_t* lengths = nullptr) {
        return kiln_attention_forward_f32(g_ctx, d, q ? q : at(x.Q), at(x.K), at(x.V), lengths, at(x.O), lse);
    };
    EXPECT(fwd(&good) == KILN_OK);
    EXPECT(fwd(nullptr) == KILN_ERR_INVALID_ARGUMENT && message_has("'desc'"));
    EXPECT(kiln_attention_forward_f32(nullptr, &good, at(x.Q), at(x.K), at(x.V), nullptr, at(x.O), lse) ==
           KILN_ERR_INVALID_ARGUMENT);
    kiln_attention_desc d = good;
    d.head_dim = 0;
    EXPECT(fwd(&d) == KILN_ERR_INVALID_ARGUMENT && message_has("head_dim"));
    d = good, d.head_dim = 129;
    EXPECT(fwd(&d) == KILN_ERR_INVALID_ARGUMENT && message_has("head_dim=129"));
    d = good, d.q_len = -1;
    EXPECT(fwd(&d) == KILN_ERR_INVALID_ARGUMENT && message_has("q_len=-1"));
    d = good, d.k_stride[2] = -8;
    EXPECT(fwd(&d) == KILN_ERR_INVALID_ARGUMENT && message_has("k's strides"));
    d = good, d.scale = std::numeric_limits<float>::quiet_NaN();
    EXPECT(fwd(&d) == KILN_ERR_INVALID_ARGUMENT && message_has("scale"));
    d = good, d.scale = std::numeric_limits<float>::infinity();
    EXPECT(fwd(&d) == KILN_ERR_INVALID_ARGUMENT && message_has("scale"));
    for (float p : {-0.1f, 1.0f, std::numeric_limits<float>::quiet_NaN()}) {
        d = good, d.dropout = p;
        EXPECT(fwd(&d) == KILN_ERR_INVALID_ARGUMENT && message_has("dropout"));
    }
    d = good, d.causal = 2;
    EXPECT(fwd(&d) == KILN_ERR_INVALID_ARGUMENT && message_has("causal"));
    d = good, d.o_stride[2] = 4;  // rows of 8 every 4 elements: tokens share memory
    EXPECT(fwd(&d) == KILN_ERR_INVALID_ARGUMENT && message_has("'o'") && message_has("share memory"));
    d = good, d.o_stride[1] = 0;
    EXPECT(fwd(&d) == KILN_ERR_INVALID_ARGUMENT && message_has("head stride 0"));
    d = good, d.q_stride[0] = INT64_MAX / 2;
    EXPECT(fwd(&d) == KILN_ERR_INVALID_ARGUMENT && message_has("too large"));
    d = good, d.batch = INT64_C(1) << 40, d.heads = INT64_C(1) << 40;
    EXPECT(fwd(&d) == KILN_ERR_INVALID_ARGUMENT && message_has("too large"));
    EXPECT(kiln_attention_forward_f32(g_ctx, &good, nullptr, at(x.K), at(x.V), nullptr, at(x.O), lse) ==
               KILN_ERR_INVALID_ARGUMENT && message_has("'q' is null"));
    EXPECT(kiln_attention_forward_f32(g_ctx, &good, at(x.Q), at(x.K), at(x.V), nullptr, nullptr, lse) ==
               KILN_ERR_INVALID_ARGUMENT && message_has("'o' is null"));
    const int32_t bad_lengths[2] = {7, 8}, negative[2] = {-1, 3};
    EXPECT(fwd(&good, nullptr, bad_lengths) == KILN_ERR_INVALID_ARGUMENT && message_has("kv_lengths[1] = 8"));
    EXPECT(fwd(&good, nullptr, negative) == KILN_ERR_INVALID_ARGUMENT && message_has("kv_lengths[0] = -1"));
    EXPECT(kiln_attention_forward_f32(g_ctx, &good, at(x.Q), at(x.K), at(x.V), nullptr, at(x.O), nullptr) == KILN_OK);
    // Backward: lse and dout are required; no gradient wanted is a no-op.
    EXPECT(kiln_attention_backward_f32(g_ctx, &good, at(x.Q), at(x.K), at(x.V), at(x.O), at(x.DOUT), nullptr, nullptr,
                                       at(x.DQ), nullptr, nullptr) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("'lse' is null"));
    EXPECT(kiln_attention_backward_f32(g_ctx, &good, at(x.Q), at(x.K), at(x.V), at(x.O), nullptr, lse, nullptr,
                                       at(x.DQ), nullptr, nullptr) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("'dout' is null"));
    d = good, d.q_stride[2] = 3;  // dq would be written at q's overlapping strides
    EXPECT(kiln_attention_backward_f32(g_ctx, &d, at(x.Q), at(x.K), at(x.V), at(x.O), at(x.DOUT), lse, nullptr,
                                       at(x.DQ), nullptr, nullptr) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("dq"));
    const std::vector<float> before = x.dq;
    EXPECT(kiln_attention_backward_f32(g_ctx, &good, at(x.Q), at(x.K), at(x.V), at(x.O), at(x.DOUT), lse, nullptr,
                                       nullptr, nullptr, nullptr) == KILN_OK);
    // Empty problems write nothing (kiln.h: 0 makes the call a no-op), null pointers allowed.
    std::vector<float> o_before = x.o;
    for (int which = 0; which < 4; ++which) {
        d = good;
        (which == 0 ? d.batch : which == 1 ? d.heads : which == 2 ? d.q_len : d.kv_len) = 0;
        EXPECT(fwd(&d) == KILN_OK);
        EXPECT(x.o == o_before);
    }
    d = good, d.batch = 0;
    EXPECT(kiln_attention_forward_f32(g_ctx, &d, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr) == KILN_OK);
    EXPECT(kiln_attention_backward_bf16(g_ctx, &d, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                        nullptr, nullptr, nullptr) == KILN_OK);
    EXPECT(x.dq == before);
}

}  // namespace

int main() {
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &g_ctx) != KILN_OK) {
        std::printf("cannot create a CPU context: %s\n", kiln_last_error());
        return 1;
    }
    std::printf("  kernel sets:");
    for (const detail::Kernels* ks : kernel_sets()) std::printf(" %s", ks->isa);
    std::printf(" (the C ABI runs %s)\n", detail::best_kernels().isa);
    auto with = [](Case c, auto&& edit) {
        edit(c);
        return c;
    };
    const Case cases[] = {
        shape("T!=S 13x7 D32", 2, 3, 13, 7, 32),
        shape("T=1 S=67 D64", 2, 2, 1, 67, 64),
        shape("T=1 S=1 D1", 1, 1, 1, 1, 1),
        with(shape("odd D17 causal 67", 1, 2, 67, 67, 17), [](Case& c) { c.causal = true; }),
        with(shape("causal T<S 7x13", 1, 2, 7, 13, 32), [](Case& c) { c.causal = true; }),
        with(shape("causal T>S 13x7", 2, 1, 13, 7, 32), [](Case& c) { c.causal = true; }),
        with(shape("causal 129 D128 gaps", 1, 1, 129, 129, 128), [](Case& c) { c.causal = true, c.layout = Layout::Gaps; }),
        with(shape("129x67 D64 gaps", 1, 2, 129, 67, 64), [](Case& c) { c.layout = Layout::Gaps; }),
        with(shape("lengths 7,0,3", 3, 2, 5, 7, 32), [](Case& c) { c.lengths = {7, 0, 3}; }),
        with(shape("causal+lengths 67", 3, 2, 67, 67, 64), [](Case& c) { c.causal = true, c.lengths = {67, 0, 40}; }),
        with(shape("NaN past lengths 1x70", 3, 2, 1, 70, 32), [](Case& c) { c.lengths = {0, 23, 70}, c.nan_tail = true; }),
        with(shape("NaN past lengths causal 67", 3, 1, 67, 67, 32),
             [](Case& c) { c.causal = true, c.lengths = {67, 0, 40}, c.nan_tail = true; }),
        with(shape("dropout 67x129", 2, 2, 67, 129, 64), [](Case& c) { c.dropout = 0.3f, c.seed = 1234, c.offset = 99; }),
        with(shape("dropout counter wrap", 1, 2, 5, 70, 16),  // Philox counters cross 2^32 inside a block run
             [](Case& c) { c.dropout = 0.6f, c.seed = 0x123456789abcull, c.offset = 0xFFFFFFFFull - 40; }),
        with(shape("dropout causal lengths", 2, 1, 13, 13, 32),
             [](Case& c) { c.causal = true, c.lengths = {13, 5}, c.dropout = 0.5f, c.seed = 7, c.offset = 3; }),
        with(shape("packed qkv causal 67", 2, 3, 67, 67, 32), [](Case& c) { c.causal = true, c.layout = Layout::PackedQkv; }),
        with(shape("packed qkv 1", 1, 2, 1, 1, 64), [](Case& c) { c.layout = Layout::PackedQkv; }),
        with(shape("scale 0.5 D7", 2, 1, 6, 9, 7), [](Case& c) { c.scale = 0.5f; }),
    };
    for (const Case& c : cases) forward_and_backward_match_the_reference(c);

    gradients_match_finite_differences(shape("fd plain", 1, 2, 3, 5, 4));
    gradients_match_finite_differences(with(shape("fd causal lengths", 2, 1, 4, 3, 3), [](Case& c) {
        c.causal = true, c.lengths = {3, 1};
    }));
    gradients_match_finite_differences(with(shape("fd dropout", 1, 2, 3, 6, 5), [](Case& c) {
        c.dropout = 0.4f, c.seed = 42, c.offset = 5;
    }));
    gradients_match_finite_differences(with(shape("fd packed", 1, 2, 3, 3, 4), [](Case& c) {
        c.causal = true, c.layout = Layout::PackedQkv;
    }));

    bf16_entries_round_the_fp32_result_once(shape("bf16 plain", 2, 2, 13, 7, 32));
    bf16_entries_round_the_fp32_result_once(with(shape("bf16 packed causal", 2, 2, 67, 67, 64), [](Case& c) {
        c.causal = true, c.layout = Layout::PackedQkv, c.dropout = 0.2f, c.seed = 3, c.offset = 1;
    }));
    bf16_entries_round_the_fp32_result_once(with(shape("bf16 gaps lengths", 2, 1, 9, 70, 17), [](Case& c) {
        c.layout = Layout::Gaps, c.lengths = {70, 0};
    }));
    multi_query_heads_share_keys();
    non_finite_scores();
    validation_and_no_ops();
    kiln_context_destroy(g_ctx);
    return kiln::test::finish("test_attention_cpu");
}

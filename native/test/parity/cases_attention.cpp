// Parity cases for fused attention, fp32 and bf16: the forward (o and lse), and forward then backward in one run (the
// backward reads the o and lse its own device produced; dq, dk, dv compared). Shapes reach every kernel of
// kernels/attention_{f32,bf16}.cu (head_dim templates 32, 64 and 128, odd head_dims padded into them) and every path in
// them: tails of query and key tiles (primes 67, 129), causal diagonal tiles, q_len != kv_len both ways (queries that
// see no key), q_len = 1 against a cache, kv_lengths with 0 and full lengths (and NaN in the masked tail), dropout, the packed
// (batch, T, 3, heads, D) layout with a token-major o and dq/dk/dv in one packed buffer, padded token strides, misaligned pointers (the
// non-cp.async loads), lse not wanted, and backward calls wanting only some gradients.
// fp32 differs from the CPU by summation order and exp2 only; bf16 by the weights P and dS entering the tensor-core
// products rounded to bf16 (the CPU keeps them fp32): a bf16-sized tolerance.
#include <cmath>
#include <string>

#include "parity/harness.h"

namespace kiln::parity {
namespace {

constexpr double kF32Tol = 1e-9;
constexpr double kBf16Tol = 1e-4;      // forward: o is rounded once on both sides; P enters P V as bf16 on the GPU
constexpr double kBf16BwdTol = 2e-4;   // and dS enters dQ, dK as bf16 (measured ~1e-5, 4e-5 at head_dim 1)

enum class Layout {
    Contiguous,  // q, o (batch, heads, q_len, d); k, v (batch, heads, kv_len, d)
    Packed,      // one (batch, T, 3, heads, d) buffer for q, k, v (q_len == kv_len); o (batch, T, heads, d)
    Padded,      // contiguous with token stride d + pad (rows not a multiple of 16 bytes long, or partial chunks)
    Shifted,     // contiguous, every pointer one element past a 16-byte boundary
};

struct Shape {
    int64_t b, h, t, s, d;
    bool causal;
    float dropout;
    std::vector<int32_t> lengths;  // kv_lengths, or empty: none
    Layout layout;
    bool poison = false;  // K and V hold NaN in every token at or past its batch's length (an unwritten cache tail)
};

std::string name(const Shape& s) {
    std::string n = "b" + std::to_string(s.b) + " h" + std::to_string(s.h) + " t" + std::to_string(s.t) + " s" +
                    std::to_string(s.s) + " d" + std::to_string(s.d);
    if (s.causal) n += " causal";
    if (s.dropout > 0) n += " drop" + std::to_string((int)std::lround(s.dropout * 100)) + "%";
    if (!s.lengths.empty()) {
        n += " len";
        for (int32_t l : s.lengths) n += ":" + std::to_string(l);
    }
    if (s.layout == Layout::Packed) n += " packed";
    if (s.layout == Layout::Padded) n += " padded";
    if (s.layout == Layout::Shifted) n += " shifted";
    if (s.poison) n += " NaN tail";
    return n;
}

// Buffers in elements: where q, k, v, o start in theirs and how long each is. Packed: q, k and v share buffer 0 (and
// dq, dk, dv their one gradient buffer).
struct Geometry {
    kiln_attention_desc desc{};
    size_t q_elems, kv_elems, o_elems;  // buffer lengths
    int64_t q_at, k_at, v_at, o_at;     // element offsets of the operands in their buffers
};

Geometry geometry(const Shape& s) {
    Geometry g{};
    kiln_attention_desc& d = g.desc;
    d.batch = s.b;
    d.heads = s.h;
    d.q_len = s.t;
    d.kv_len = s.s;
    d.head_dim = s.d;
    d.scale = 1.0f / std::sqrt((float)s.d);
    d.causal = s.causal;
    d.dropout = s.dropout;
    d.seed = 20240607;
    d.offset = 12345;
    auto set = [](int64_t (&st)[3], int64_t batch, int64_t head, int64_t token) {
        st[0] = batch;
        st[1] = head;
        st[2] = token;
    };
    if (s.layout == Layout::Packed) {
        const int64_t row = 3 * s.h * s.d;
        set(d.q_stride, s.t * row, s.d, row);
        set(d.k_stride, s.t * row, s.d, row);
        set(d.v_stride, s.t * row, s.d, row);
        set(d.o_stride, s.t * s.h * s.d, s.d, s.h * s.d);
        g.q_elems = g.kv_elems = (size_t)(s.b * s.t * row);
        g.o_elems = (size_t)(s.b * s.t * s.h * s.d);
        g.q_at = 0;
        g.k_at = s.h * s.d;
        g.v_at = 2 * s.h * s.d;
        g.o_at = 0;
        return g;
    }
    const int64_t tok = s.layout == Layout::Padded ? s.d + 4 : s.d;
    set(d.q_stride, s.h * s.t * tok, s.t * tok, tok);
    set(d.k_stride, s.h * s.s * tok, s.s * tok, tok);
    set(d.v_stride, s.h * s.s * tok, s.s * tok, tok);
    set(d.o_stride, s.h * s.t * tok, s.t * tok, tok);
    const int64_t shift = s.layout == Layout::Shifted ? 1 : 0;
    g.q_elems = g.o_elems = (size_t)(s.b * s.h * s.t * tok + shift);
    g.kv_elems = (size_t)(s.b * s.h * s.s * tok + shift);
    g.q_at = g.k_at = g.v_at = g.o_at = shift;
    return g;
}

// The arguments of one case in order: q, k, v buffers (one when packed), kv_lengths, then what the case adds.
struct Args {
    std::vector<Arg> list;
    int q = -1, k = -1, v = -1, len = -1;
    int add(Arg a) {
        list.push_back(std::move(a));
        return (int)list.size() - 1;
    }
};

template <class T>
T* ptr(const std::vector<void*>& p, int i, int64_t at) {
    return i < 0 ? nullptr : static_cast<T*>(p[i]) + at;
}

Args inputs(const Shape& s, const Geometry& g, bool bf16, uint32_t seed) {
    Args a;
    auto in = [&](size_t n, uint32_t sd, float lo, float hi) {
        const std::vector<float> v = host_uniform(n, sd, lo, hi);
        return bf16 ? in_bf16(v) : in_f32(v);
    };
    // Scores of a few units: softmax neither uniform nor one-hot, so the weights matter.
    a.q = a.add(in(g.q_elems, seed, -2.0f, 2.0f));
    // Tokens past a batch's length are masked out and must never be read: NaN there reaches o or dq through 0 * NaN
    // if a kernel multiplies a masked key's zero weight by its row instead of skipping it.
    auto kv = [&](uint32_t sd, float lo, float hi) {
        std::vector<float> v = host_uniform(g.kv_elems, sd, lo, hi);
        if (s.poison)
            for (int64_t b = 0; b < s.b; ++b)
                for (int64_t h = 0; h < s.h; ++h)
                    for (int64_t t = s.lengths[(size_t)b]; t < s.s; ++t)
                        for (int64_t e = 0; e < s.d; ++e)
                            v[(size_t)(g.k_at + b * g.desc.k_stride[0] + h * g.desc.k_stride[1] + t * g.desc.k_stride[2] +
                                       e)] = NAN;
        return bf16 ? in_bf16(v) : in_f32(v);
    };
    if (s.layout == Layout::Packed) {
        a.k = a.v = a.q;
    } else {
        a.k = a.add(kv(seed + 1, -2.0f, 2.0f));
        a.v = a.add(kv(seed + 2, -1.0f, 1.0f));
    }
    if (!s.lengths.empty()) a.len = a.add(in_i32(s.lengths));
    return a;
}

uint32_t seed_of(const Shape& s) { return (uint32_t)(s.b * 7919 + s.h * 389 + s.t * 31 + s.s * 7 + s.d); }

template <class T>
OpCase forward_case(const Shape& s, bool bf16, bool want_lse) {
    const Geometry g = geometry(s);
    Args a = inputs(s, g, bf16, seed_of(s));
    const int o = a.add(bf16 ? out_bf16(g.o_elems) : out_f32(g.o_elems));
    const int lse = want_lse ? a.add(out_f32((size_t)(s.b * s.h * s.t))) : -1;
    const std::string op = bf16 ? "attention_forward_bf16" : "attention_forward_f32";
    return OpCase{op, name(s) + (want_lse ? "" : " no-lse"), bf16 ? kBf16Tol : kF32Tol, std::move(a.list),
                  [=](kiln_context* ctx, const std::vector<void*>& p) {
                      const kiln_attention_desc d = g.desc;
                      const int32_t* len = ptr<int32_t>(p, a.len, 0);
                      if constexpr (sizeof(T) == 2)
                          return kiln_attention_forward_bf16(ctx, &d, ptr<T>(p, a.q, g.q_at), ptr<T>(p, a.k, g.k_at),
                                                             ptr<T>(p, a.v, g.v_at), len, ptr<T>(p, o, g.o_at),
                                                             ptr<float>(p, lse, 0));
                      else
                          return kiln_attention_forward_f32(ctx, &d, ptr<T>(p, a.q, g.q_at), ptr<T>(p, a.k, g.k_at),
                                                            ptr<T>(p, a.v, g.v_at), len, ptr<T>(p, o, g.o_at),
                                                            ptr<float>(p, lse, 0));
                  }};
}

// Which gradients a backward case asks for.
enum Want { kAll = 7, kDq = 1, kDkDv = 6 };

template <class T>
OpCase backward_case(const Shape& s, bool bf16, int want) {
    const Geometry g = geometry(s);
    const uint32_t seed = seed_of(s) * 3 + 1;
    Args a = inputs(s, g, bf16, seed);
    const std::vector<float> dout = host_uniform(g.o_elems, seed + 7, -1.0f, 1.0f);
    const int dy = a.add(bf16 ? in_bf16(dout) : in_f32(dout));
    const int o = a.add(bf16 ? out_bf16(g.o_elems) : out_f32(g.o_elems));
    const int lse = a.add(out_f32((size_t)(s.b * s.h * s.t)));
    const bool packed = s.layout == Layout::Packed;
    auto grad = [&](bool wanted, size_t n) { return wanted ? a.add(bf16 ? out_bf16(n) : out_f32(n)) : -1; };
    // Packed: dq, dk, dv are the three parts of one (batch, T, 3, heads, d) buffer, as the forward's input was.
    const int dq = grad(packed || (want & kDq), g.q_elems);
    const int dk = packed ? dq : grad(want & 2, g.kv_elems);
    const int dv = packed ? dq : grad(want & 4, g.kv_elems);
    std::string shape = name(s);
    if (want == kDq) shape += " dq only";
    if (want == kDkDv) shape += " dk dv only";
    const std::string op = bf16 ? "attention_backward_bf16" : "attention_backward_f32";
    return OpCase{op, shape, bf16 ? kBf16BwdTol : kF32Tol, std::move(a.list),
                  [=](kiln_context* ctx, const std::vector<void*>& p) {
                      const kiln_attention_desc d = g.desc;
                      const int32_t* len = ptr<int32_t>(p, a.len, 0);
                      const T *q = ptr<T>(p, a.q, g.q_at), *k = ptr<T>(p, a.k, g.k_at), *v = ptr<T>(p, a.v, g.v_at);
                      T* out = ptr<T>(p, o, g.o_at);
                      float* l = ptr<float>(p, lse, 0);
                      T* gq = (want & kDq) ? ptr<T>(p, dq, g.q_at) : nullptr;
                      T* gk = (want & 2) ? ptr<T>(p, dk, g.k_at) : nullptr;
                      T* gv = (want & 4) ? ptr<T>(p, dv, g.v_at) : nullptr;
                      if constexpr (sizeof(T) == 2) {
                          const kiln_status st = kiln_attention_forward_bf16(ctx, &d, q, k, v, len, out, l);
                          if (st != KILN_OK) return st;
                          return kiln_attention_backward_bf16(ctx, &d, q, k, v, out, ptr<T>(p, dy, g.o_at), l, len, gq,
                                                              gk, gv);
                      } else {
                          const kiln_status st = kiln_attention_forward_f32(ctx, &d, q, k, v, len, out, l);
                          if (st != KILN_OK) return st;
                          return kiln_attention_backward_f32(ctx, &d, q, k, v, out, ptr<T>(p, dy, g.o_at), l, len, gq,
                                                             gk, gv);
                      }
                  }};
}

void add_both(std::vector<OpCase>& cases, const Shape& s) {
    cases.push_back(forward_case<float>(s, false, true));
    cases.push_back(backward_case<float>(s, false, kAll));
    cases.push_back(forward_case<kiln_bf16>(s, true, true));
    cases.push_back(backward_case<kiln_bf16>(s, true, kAll));
}

std::vector<OpCase> attention_cases() {
    std::vector<OpCase> cases;
    using L = Layout;
    // Whole tiles, then tails and causal diagonals at each head_dim template.
    add_both(cases, {2, 3, 64, 64, 64, false, 0.0f, {}, L::Contiguous});
    add_both(cases, {2, 3, 64, 64, 64, true, 0.0f, {}, L::Contiguous});
    add_both(cases, {2, 2, 67, 67, 32, true, 0.0f, {}, L::Contiguous});
    add_both(cases, {1, 2, 129, 129, 128, true, 0.0f, {}, L::Contiguous});
    add_both(cases, {1, 2, 129, 67, 128, false, 0.0f, {}, L::Contiguous});
    // q_len != kv_len, bottom-right causal: fewer queries than keys, and more (the first 113 queries see no key).
    add_both(cases, {1, 2, 37, 150, 64, true, 0.0f, {}, L::Contiguous});
    add_both(cases, {1, 1, 150, 37, 32, true, 0.0f, {}, L::Contiguous});
    // One query against a key/value cache with lengths 0, partial and full; with and without the causal mask.
    add_both(cases, {3, 2, 1, 200, 64, true, 0.0f, {0, 77, 200}, L::Contiguous});
    add_both(cases, {3, 2, 1, 129, 128, false, 0.0f, {129, 1, 0}, L::Contiguous});
    // Padding masks on many queries: a batch with no keys at all (o = 0, lse = -inf, gradients 0).
    add_both(cases, {3, 2, 67, 129, 64, false, 0.0f, {0, 50, 129}, L::Contiguous});
    add_both(cases, {3, 1, 67, 129, 32, true, 0.0f, {129, 0, 64}, L::Contiguous});
    // The same with NaN in every masked K and V row: a cache's unwritten tail (the key tile holding a length's end
    // is partly past it), with and without the causal mask.
    add_both(cases, {3, 2, 1, 200, 64, true, 0.0f, {0, 77, 200}, L::Contiguous, true});
    add_both(cases, {3, 1, 67, 129, 32, false, 0.0f, {129, 0, 50}, L::Contiguous, true});
    // Head dims that are no template: padded with zeros into 32, 64 and 128.
    add_both(cases, {2, 1, 67, 67, 67, false, 0.0f, {}, L::Contiguous});
    add_both(cases, {1, 2, 45, 70, 20, true, 0.0f, {}, L::Contiguous});
    add_both(cases, {2, 1, 5, 9, 1, true, 0.0f, {}, L::Contiguous});
    add_both(cases, {1, 1, 33, 33, 100, true, 0.0f, {}, L::Contiguous});
    // Dropout (regenerated in the backward) with masks and tails.
    add_both(cases, {2, 2, 67, 67, 64, true, 0.2f, {}, L::Contiguous});
    add_both(cases, {3, 1, 40, 67, 32, false, 0.5f, {67, 13, 0}, L::Contiguous});
    add_both(cases, {1, 1, 70, 129, 128, true, 0.1f, {}, L::Contiguous});
    // Layouts: the packed QKV projection with a token-major o; padded token strides; misaligned pointers.
    add_both(cases, {2, 3, 67, 67, 32, true, 0.1f, {}, L::Packed});
    add_both(cases, {1, 2, 64, 64, 64, false, 0.0f, {}, L::Packed});
    add_both(cases, {2, 2, 45, 45, 20, true, 0.0f, {}, L::Padded});
    add_both(cases, {1, 2, 67, 70, 64, true, 0.0f, {}, L::Shifted});
    // lse not wanted (inference), and backward calls that want only some gradients.
    const Shape part{2, 2, 67, 129, 64, true, 0.0f, {129, 100}, L::Contiguous};
    cases.push_back(forward_case<float>(part, false, false));
    cases.push_back(forward_case<kiln_bf16>(part, true, false));
    for (int want : {kDq, kDkDv}) {
        cases.push_back(backward_case<float>(part, false, want));
        cases.push_back(backward_case<kiln_bf16>(part, true, want));
    }
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("attention", attention_cases);
}  // namespace kiln::parity

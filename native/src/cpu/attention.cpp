// CPU fused attention (kernels/attention.h): the driver (work items over the thread pool, the kernel set of this CPU),
// the scalar helpers of the tile template (attention_tiles.h) with the shared math of kernels/common/attention_math.h,
// its portable instantiation, and the bf16 entries, which widen to fp32, run the fp32 path and round each output once.
//
// Determinism: a forward item is one query tile of one head and writes only its own rows; a backward item is a whole
// head, so every dk, dv and dq sum has one owner and runs in a fixed order. Nothing depends on the thread count.
#include "attention.h"

#include <cstdint>
#include <vector>

#include "common/attention_math.h"
#include "common/bf16.h"
#include "cpu/attention_tiles.h"
#include "cpu/parallel.h"
#include "cpu/simd.h"
#include "cpu/work_items.h"

namespace kiln::cpu {

namespace attention_detail {

namespace {

// One float per "vector": correct on any machine, and the reference the AVX-512 path is tested against.
struct Portable {
    using reg = float;
    using mask = bool;
    static constexpr int W = 1;
    static constexpr int kRegisters = 16;
    static reg zero() { return 0.0f; }
    static reg set1(float x) { return x; }
    static reg load(const float* p) { return *p; }
    static void store(float* p, reg r) { *p = r; }
    static reg bcast(const float* p) { return *p; }
    static mask first(int n) { return n > 0; }
    static reg load_masked(const float* p, mask m) { return m ? *p : 0.0f; }
    static void store_masked(float* p, reg r, mask m) {
        if (m) *p = r;
    }
    static reg fma(reg a, reg b, reg c) { return a * b + c; }
    static reg mul(reg a, reg b) { return a * b; }
    static reg add(reg a, reg b) { return a + b; }
    static reg sub(reg a, reg b) { return a - b; }
    static reg max(reg a, reg b) { return b > a || b != b ? b : a; }  // a NaN score stays NaN, as on AVX-512
    static reg exp2(reg x) { return attn_exp2(x); }
    static reg set_prefix(reg r, int n, float x) { return n > 0 ? x : r; }
    static reg replace_neg_inf(reg r, float x) { return r == attn_neg_inf() ? x : r; }
    static void transpose_block(const float* src, int64_t, int rows, int cols, float* dst, int64_t, int lanes) {
        if (cols > 0 && lanes > 0) *dst = rows > 0 ? *src : 0.0f;
    }
    static void dropout_run(const Problem& p, uint64_t e0, int n, float* out) {
        attention_detail::dropout_run(p, e0, n, out);
    }
};

thread_local work::Scratch t_scratch;  // per thread, grown to the largest tile set seen and kept

Problem problem(const kiln_attention_desc& d, const float* q, const float* k, const float* v,
                const int32_t* kv_lengths) {
    Problem p{};
    p.d = d;
    p.q = q, p.k = k, p.v = v, p.kv_lengths = kv_lengths;
    p.score_scale_log2 = attention_score_scale_log2(d.scale);
    p.dropout = d.dropout > 0.0f;
    p.keep_scale = p.dropout ? dropout_scale(d.dropout) : 1.0f;
    return p;
}

int64_t padded(int64_t floats) { return work::align16(floats); }

}  // namespace

bool avx2_available() {
    if (isa() == Isa::Avx2) return true;
#if defined(__x86_64__) || defined(__i386__)
    static const bool avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");  // AVX-512 CPUs too
    return avx2_fma;
#else
    return false;
#endif
}

const Kernels& best_kernels() {
    static const Kernels& ks = isa() == Isa::Avx512 ? avx512_kernels() : avx2_available() ? avx2_kernels()
                                                                                          : portable_kernels();
    return ks;
}

const Kernels& portable_kernels() {
    static const Kernels ks{"portable", &Tiles<Portable>::forward_tile, &Tiles<Portable>::backward_head};
    return ks;
}

int64_t forward_scratch_floats(int64_t head_dim) {
    return 2 * head_dim * kQueryTile + 3 * kKeyTile * kQueryTile + 2 * kQueryTile;
}

int64_t backward_scratch_floats(int64_t head_dim) {
    return 2 * head_dim * kQueryTile + 4 * kKeyTile * kQueryTile + kQueryTile * padded(head_dim) + 2 * kQueryTile;
}

void key_ends(const Problem& p, int64_t b, int64_t t0, int nq, int64_t* kend) {
    const AttentionMask mask = attention_mask(p.d.q_len, p.d.kv_len, p.kv_lengths, b, p.d.causal);
    for (int i = 0; i < nq; ++i) kend[i] = mask.key_end(t0 + i);
}

uint64_t dropout_element(const Problem& p, int64_t bh, int64_t t, int64_t s) {
    return attention_dropout_element(bh, t, s, p.d.q_len, p.d.kv_len);
}

void dropout_run(const Problem& p, uint64_t e0, int n, float* out) {
    const kiln_attention_desc& d = p.d;
    Philox4 block = philox_block(d.seed, d.offset + e0 / 4);
    for (int j = 0; j < n; ++j) {
        const uint64_t e = e0 + (uint64_t)j;
        if (j > 0 && e % 4 == 0) block = philox_block(d.seed, d.offset + e / 4);
        out[j] = attention_dropout_factor_of_word(block.v[e % 4], d.dropout, p.keep_scale);
    }
}

void finish_queries(const float* m, const float* l, int nq, float* out_scale, float* lse_row) {
    for (int i = 0; i < nq; ++i) {
        const OnlineSoftmaxRow row{m[i], l[i]};
        out_scale[i] = online_softmax_out_scale(row);
        if (lse_row) lse_row[i] = online_softmax_lse(row);
    }
}

void backward_query_stats(const Problem& p, int64_t bh, int64_t t0, int nq, float* lse2, float* delta) {
    const kiln_attention_desc& d = p.d;
    const int64_t b = bh / d.heads, h = bh % d.heads;
    const int64_t at = b * d.o_stride[0] + h * d.o_stride[1] + t0 * d.o_stride[2];
    const float* o = p.o_in + at;
    const float* dout = p.dout + at;
    const float* lse = p.lse_in + bh * d.q_len + t0;
    const float inf = -attn_neg_inf();
    for (int i = 0; i < nq; ++i) {
        const float l2 = attention_lse_log2(lse[i]);
        lse2[i] = l2 == attn_neg_inf() ? inf : l2;
        float dot = 0.0f;
        for (int64_t e = 0; e < d.head_dim; ++e)
            dot = kiln_fadd(dot, kiln_fmul(dout[i * d.o_stride[2] + e], o[i * d.o_stride[2] + e]));
        delta[i] = dot;
    }
    for (int i = nq; i < kQueryTile; ++i) lse2[i] = inf, delta[i] = 0.0f;
}

void forward_using(const Kernels& ks, const kiln_attention_desc& d, const float* q, const float* k, const float* v,
                   const int32_t* kv_lengths, float* o, float* lse) {
    Problem p = problem(d, q, k, v, kv_lengths);
    p.o = o, p.lse = lse;
    const int64_t tiles = (d.q_len + kQueryTile - 1) / kQueryTile;
    const int64_t floats = forward_scratch_floats(d.head_dim);
    work::run_items(d.batch * d.heads * tiles, nullptr, 0, [&](float*, int64_t item) {
        ks.forward_tile(p, item / tiles, item % tiles, t_scratch.get((size_t)floats));
    });
}

void backward_using(const Kernels& ks, const kiln_attention_desc& d, const float* q, const float* k, const float* v,
                    const float* o, const float* dout, const float* lse, const int32_t* kv_lengths, float* dq,
                    float* dk, float* dv) {
    Problem p = problem(d, q, k, v, kv_lengths);
    p.o_in = o, p.dout = dout, p.lse_in = lse;
    p.dq = dq, p.dk = dk, p.dv = dv;
    const int64_t floats = backward_scratch_floats(d.head_dim);
    work::run_items(d.batch * d.heads, nullptr, 0, [&](float*, int64_t bh) {
        ks.backward_head(p, bh, t_scratch.get((size_t)floats));
    });
}

}  // namespace attention_detail

namespace {

// Element strides {batch, head, token} of a contiguous (batch, heads, len, head_dim) tensor.
void contiguous_strides(const kiln_attention_desc& d, int64_t len, int64_t* stride) {
    stride[2] = d.head_dim;
    stride[1] = len * d.head_dim;
    stride[0] = d.heads * stride[1];
}

constexpr int64_t kRowGrain = 256;  // rows per task of the conversions: tens of microseconds

// A bf16 operand at its strides, widened into contiguous fp32 (batch, heads, len, head_dim).
std::vector<float> widen(const kiln_attention_desc& d, const kiln_bf16* x, const int64_t* stride, int64_t len) {
    const int64_t D = d.head_dim, rows = d.batch * d.heads * len;
    std::vector<float> out((size_t)(rows * D));
    parallel_for(rows, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const int64_t t = r % len, bh = r / len;
            const kiln_bf16* src = x + (bh / d.heads) * stride[0] + (bh % d.heads) * stride[1] + t * stride[2];
            for (int64_t e = 0; e < D; ++e) out[(size_t)(r * D + e)] = bf16_to_f32(src[e]);
        }
    }, kRowGrain);
    return out;
}

// Contiguous fp32 (batch, heads, len, head_dim) rounded once into a bf16 tensor at its strides.
void narrow(const kiln_attention_desc& d, const std::vector<float>& x, kiln_bf16* dst, const int64_t* stride,
            int64_t len) {
    const int64_t D = d.head_dim, rows = d.batch * d.heads * len;
    parallel_for(rows, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const int64_t t = r % len, bh = r / len;
            kiln_bf16* out = dst + (bh / d.heads) * stride[0] + (bh % d.heads) * stride[1] + t * stride[2];
            for (int64_t e = 0; e < D; ++e) out[e] = f32_to_bf16(x[(size_t)(r * D + e)]);
        }
    }, kRowGrain);
}

// The descriptor of the widened operands: every one contiguous.
kiln_attention_desc contiguous_desc(const kiln_attention_desc& d) {
    kiln_attention_desc c = d;
    contiguous_strides(d, d.q_len, c.q_stride);
    contiguous_strides(d, d.kv_len, c.k_stride);
    contiguous_strides(d, d.kv_len, c.v_stride);
    contiguous_strides(d, d.q_len, c.o_stride);
    return c;
}

}  // namespace

void attention_forward_f32(const kiln_attention_desc& d, const float* q, const float* k, const float* v,
                           const int32_t* kv_lengths, float* o, float* lse) {
    attention_detail::forward_using(attention_detail::best_kernels(), d, q, k, v, kv_lengths, o, lse);
}

void attention_backward_f32(const kiln_attention_desc& d, const float* q, const float* k, const float* v,
                            const float* o, const float* dout, const float* lse, const int32_t* kv_lengths, float* dq,
                            float* dk, float* dv) {
    attention_detail::backward_using(attention_detail::best_kernels(), d, q, k, v, o, dout, lse, kv_lengths, dq, dk,
                                     dv);
}

void attention_forward_bf16(const kiln_attention_desc& d, const kiln_bf16* q, const kiln_bf16* k, const kiln_bf16* v,
                            const int32_t* kv_lengths, kiln_bf16* o, float* lse) {
    const kiln_attention_desc c = contiguous_desc(d);
    const std::vector<float> qf = widen(d, q, d.q_stride, d.q_len), kf = widen(d, k, d.k_stride, d.kv_len),
                             vf = widen(d, v, d.v_stride, d.kv_len);
    std::vector<float> of((size_t)(d.batch * d.heads * d.q_len * d.head_dim));
    attention_forward_f32(c, qf.data(), kf.data(), vf.data(), kv_lengths, of.data(), lse);
    narrow(d, of, o, d.o_stride, d.q_len);
}

void attention_backward_bf16(const kiln_attention_desc& d, const kiln_bf16* q, const kiln_bf16* k,
                             const kiln_bf16* v, const kiln_bf16* o, const kiln_bf16* dout, const float* lse,
                             const int32_t* kv_lengths, kiln_bf16* dq, kiln_bf16* dk, kiln_bf16* dv) {
    const kiln_attention_desc c = contiguous_desc(d);
    const std::vector<float> qf = widen(d, q, d.q_stride, d.q_len), kf = widen(d, k, d.k_stride, d.kv_len),
                             vf = widen(d, v, d.v_stride, d.kv_len), of = widen(d, o, d.o_stride, d.q_len),
                             dof = widen(d, dout, d.o_stride, d.q_len);
    const size_t q_elems = (size_t)(d.batch * d.heads * d.q_len * d.head_dim),
                 kv_elems = (size_t)(d.batch * d.heads * d.kv_len * d.head_dim);
    std::vector<float> dqf(dq ? q_elems : 0), dkf(dk ? kv_elems : 0), dvf(dv ? kv_elems : 0);
    attention_backward_f32(c, qf.data(), kf.data(), vf.data(), of.data(), dof.data(), lse, kv_lengths,
                           dq ? dqf.data() : nullptr, dk ? dkf.data() : nullptr, dv ? dvf.data() : nullptr);
    if (dq) narrow(d, dqf, dq, d.q_stride, d.q_len);
    if (dk) narrow(d, dkf, dk, d.k_stride, d.kv_len);
    if (dv) narrow(d, dvf, dv, d.v_stride, d.kv_len);
}

}  // namespace kiln::cpu

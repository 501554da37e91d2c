// AVX-512 instantiation of the attention tiles (attention_tiles.h): 16 queries per vector, the tile products on 6 x 64
// register tiles, and a vectorized exp2. Compiled with -mavx512f etc.; attention.cpp calls into it only where
// kiln::cpu::isa() found AVX-512.
#include <immintrin.h>

// GCC 12's AVX-512 headers trip -W(maybe-)uninitialized inside the roundscale, scalef, conversion and shift intrinsics
// (their _mm512_undefined_* self-initialization); the warning is about the header, not this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "cpu/attention_tiles.h"

namespace kiln::cpu::attention_detail {
namespace {

struct Avx512 {
    using reg = __m512;
    using mask = __mmask16;
    static constexpr int W = 16;
    static constexpr int kRegisters = 32;
    static reg zero() { return _mm512_setzero_ps(); }
    static reg set1(float x) { return _mm512_set1_ps(x); }
    static reg load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, reg r) { _mm512_storeu_ps(p, r); }
    static reg bcast(const float* p) { return _mm512_set1_ps(*p); }
    static mask first(int n) { return (mask)((1u << n) - 1u); }
    static reg load_masked(const float* p, mask m) { return _mm512_maskz_loadu_ps(m, p); }
    static void store_masked(float* p, reg r, mask m) { _mm512_mask_storeu_ps(p, m, r); }
    static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
    static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
    static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
    static reg sub(reg a, reg b) { return _mm512_sub_ps(a, b); }
    static reg max(reg a, reg b) { return _mm512_max_ps(a, b); }  // b where either is NaN

    // 2^x = 2^n 2^f with n = round(x) and f in [-1/2, 1/2], 2^f by Cephes' exp2f polynomial (relative error below
    // 2e-7). x is clamped below at -200, where the result underflows to exactly 0 (so -inf gives 0); a NaN passes.
    static reg exp2(reg x) {
        x = _mm512_max_ps(_mm512_set1_ps(-200.0f), x);
        const reg n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        const reg f = _mm512_sub_ps(x, n);
        reg p = _mm512_set1_ps(1.535336188319500e-4f);
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.339887440266574e-3f));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.618437357674640e-3f));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550332471162809e-2f));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402264791363012e-1f));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931472028550421e-1f));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
        return _mm512_scalef_ps(p, n);
    }
    static reg set_prefix(reg r, int n, float x) { return _mm512_mask_mov_ps(r, first(n), _mm512_set1_ps(x)); }
    static reg replace_neg_inf(reg r, float x) {
        const mask is_neg_inf = _mm512_cmp_ps_mask(r, _mm512_set1_ps(-__builtin_inff()), _CMP_EQ_OQ);
        return _mm512_mask_mov_ps(r, is_neg_inf, _mm512_set1_ps(x));
    }

    static void transpose_block(const float* src, int64_t lds, int rows, int cols, float* dst, int64_t ldd, int lanes) {
        reg r[16];
        const mask in = first(cols);
        for (int i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_maskz_loadu_ps(in, src + i * lds) : _mm512_setzero_ps();
        transpose16(r);
        const mask out = first(lanes);
        for (int c = 0; c < cols; ++c) _mm512_mask_storeu_ps(dst + c * ldd, out, r[c]);
    }

    // The dropout factors of elements [e0, e0 + n) of the stream, 64 at a time: 16 Philox blocks side by side, their words
    // turned into factors by the rule of attention_dropout_factor_of_word, then interleaved into element order.
    static void dropout_run(const Problem& p, uint64_t e0, int n, float* out) {
        alignas(64) float run[64];
        const uint64_t first_block = e0 / 4;
        int skip = (int)(e0 % 4), done = 0;
        for (uint64_t block = first_block; done < n; block += 16, skip = 0) {
            if (skip == 0 && n - done >= 64) {  // a whole run in place (keys aligned to the blocks: kv_len % 4 == 0)
                factors64(p, p.d.offset + block, out + done);
                done += 64;
                continue;
            }
            factors64(p, p.d.offset + block, run);
            const int take = 64 - skip < n - done ? 64 - skip : n - done;
            for (int j = 0; j < take; ++j) out[done + j] = run[skip + j];
            done += take;
        }
    }

    // Factors of the 64 elements of Philox blocks counter .. counter + 15 (kernels/common/philox.h's philox_block, one
    // block per lane: round keys, multipliers and word order as there), element 4 b + w from word w of block b.
    static void factors64(const Problem& p, uint64_t counter, float* run) {
        const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        const __m512i base_lo = _mm512_set1_epi32((int)(uint32_t)counter);
        __m512i c0 = _mm512_add_epi32(base_lo, lane);
        const __mmask16 wrapped = _mm512_cmplt_epu32_mask(c0, base_lo);  // the low word overflowed: carry into the high
        const __m512i base_hi = _mm512_set1_epi32((int)(uint32_t)(counter >> 32));
        __m512i c1 = _mm512_mask_add_epi32(base_hi, wrapped, base_hi, _mm512_set1_epi32(1));
        __m512i c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
        __m512i k0 = _mm512_set1_epi32((int)(uint32_t)p.d.seed);
        __m512i k1 = _mm512_set1_epi32((int)(uint32_t)(p.d.seed >> 32));
        const __m512i m0 = _mm512_set1_epi32((int)0xD2511F53u), m1 = _mm512_set1_epi32((int)0xCD9E8D57u);
        const __m512i w0 = _mm512_set1_epi32((int)0x9E3779B9u), w1 = _mm512_set1_epi32((int)0xBB67AE85u);
        for (int round = 0; round < 10; ++round) {
            if (round > 0) k0 = _mm512_add_epi32(k0, w0), k1 = _mm512_add_epi32(k1, w1);
            __m512i hi0, lo0, hi1, lo1;
            mul_wide(m0, c0, &hi0, &lo0);
            mul_wide(m1, c2, &hi1, &lo1);
            c0 = _mm512_xor_si512(_mm512_xor_si512(hi1, c1), k0);
            c1 = lo1;
            c2 = _mm512_xor_si512(_mm512_xor_si512(hi0, c3), k1);
            c3 = lo0;
        }
        // u = (word >> 8) 2^-24 (exact), kept when u >= p: the factor is keep_scale or 0.
        const reg rate = _mm512_set1_ps(p.d.dropout), keep = _mm512_set1_ps(p.keep_scale), ulp = _mm512_set1_ps(0x1p-24f);
        reg f[4];
        const __m512i words[4] = {c0, c1, c2, c3};
        for (int w = 0; w < 4; ++w) {
            const reg u = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(words[w], 8)), ulp);
            f[w] = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(u, rate, _CMP_GE_OQ), keep);
        }
        // f[w] lane b is element 4 b + w. Per 128-bit group g: blocks 4g .. 4g + 3, four words each, into order.
        const reg t0 = _mm512_unpacklo_ps(f[0], f[1]), t1 = _mm512_unpackhi_ps(f[0], f[1]);
        const reg t2 = _mm512_unpacklo_ps(f[2], f[3]), t3 = _mm512_unpackhi_ps(f[2], f[3]);
        const reg a0 = _mm512_shuffle_ps(t0, t2, 0x44), a1 = _mm512_shuffle_ps(t0, t2, 0xEE);  // group g: block 4g, 4g+1
        const reg a2 = _mm512_shuffle_ps(t1, t3, 0x44), a3 = _mm512_shuffle_ps(t1, t3, 0xEE);  // 4g+2, 4g+3
        const reg lo01 = _mm512_shuffle_f32x4(a0, a1, 0x44), lo23 = _mm512_shuffle_f32x4(a2, a3, 0x44);  // groups 0, 1
        const reg hi01 = _mm512_shuffle_f32x4(a0, a1, 0xEE), hi23 = _mm512_shuffle_f32x4(a2, a3, 0xEE);  // groups 2, 3
        _mm512_storeu_ps(run, _mm512_shuffle_f32x4(lo01, lo23, 0x88));       // blocks 0-3
        _mm512_storeu_ps(run + 16, _mm512_shuffle_f32x4(lo01, lo23, 0xDD));  // blocks 4-7
        _mm512_storeu_ps(run + 32, _mm512_shuffle_f32x4(hi01, hi23, 0x88));  // blocks 8-11
        _mm512_storeu_ps(run + 48, _mm512_shuffle_f32x4(hi01, hi23, 0xDD));  // blocks 12-15
    }

    // The 64-bit products m x per lane, as high and low words: even lanes from one widening multiply, odd from another.
    static void mul_wide(__m512i m, __m512i x, __m512i* hi, __m512i* lo) {
        const __m512i even = _mm512_mul_epu32(m, x);
        const __m512i odd = _mm512_mul_epu32(m, _mm512_srli_epi64(x, 32));
        *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
        *lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    }

    // r[i] becomes column i of the 16 x 16 block: pairs interleaved, then 4-float groups, then 128-bit lanes twice.
    static void transpose16(reg (&r)[16]) {
        reg t[16];
        for (int i = 0; i < 16; i += 2) {
            t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);  // per 128-bit lane k: r_i[4k], r_i+1[4k], r_i[4k+1], r_i+1[4k+1]
            t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
        }
        reg u[16];  // u[4g + j], lane k: rows 4g..4g+3 at column 4k + j
        for (int g = 0; g < 4; ++g) {
            u[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
            u[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
            u[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
            u[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
        }
        for (int j = 0; j < 4; ++j) {
            // Lanes (rows 0-3 col j, rows 0-3 col 8+j, rows 4-7 col j, rows 4-7 col 8+j) and the same for 4+j, 12+j.
            const reg lo_even = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x88);
            const reg lo_odd = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xDD);
            const reg hi_even = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x88),
                      hi_odd = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xDD);
            r[j] = _mm512_shuffle_f32x4(lo_even, hi_even, 0x88);
            r[8 + j] = _mm512_shuffle_f32x4(lo_even, hi_even, 0xDD);
            r[4 + j] = _mm512_shuffle_f32x4(lo_odd, hi_odd, 0x88);
            r[12 + j] = _mm512_shuffle_f32x4(lo_odd, hi_odd, 0xDD);
        }
    }
};

}  // namespace

const Kernels& avx512_kernels() {
    static const Kernels ks{"avx512", &Tiles<Avx512>::forward_tile, &Tiles<Avx512>::backward_head};
    return ks;
}

}  // namespace kiln::cpu::attention_detail

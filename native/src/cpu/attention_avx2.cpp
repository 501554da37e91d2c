// AVX2 instantiation of the attention tiles (attention_tiles.h): 8 queries per vector, 6 x 16 register tiles (16 ymm
// registers), and the exp2 of the AVX-512 file with the exponent built by integer arithmetic. Compiled with -mavx2
// -mfma; attention.cpp calls into it only where the CPU has both.
#include <immintrin.h>

#include "cpu/attention_tiles.h"

namespace kiln::cpu::attention_detail {
namespace {

struct Avx2 {
    using reg = __m256;
    using mask = __m256i;  // all ones in the lanes that are in
    static constexpr int W = 8;
    static constexpr int kRegisters = 16;
    static reg zero() { return _mm256_setzero_ps(); }
    static reg set1(float x) { return _mm256_set1_ps(x); }
    static reg load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, reg r) { _mm256_storeu_ps(p, r); }
    static reg bcast(const float* p) { return _mm256_broadcast_ss(p); }
    static mask first(int n) {
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    static reg load_masked(const float* p, mask m) { return _mm256_maskload_ps(p, m); }  // lanes out are not read
    // A masked 256-bit store costs about ten plain ones on AMD's cores, and the tiles pass full masks most of the
    // time (the register tile's last column, the transposes' lanes): those store plainly.
    static void store_masked(float* p, reg r, mask m) {
        if (_mm256_movemask_ps(_mm256_castsi256_ps(m)) == 0xff) _mm256_storeu_ps(p, r);
        else _mm256_maskstore_ps(p, m, r);
    }
    static reg fma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
    static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
    static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
    static reg sub(reg a, reg b) { return _mm256_sub_ps(a, b); }
    static reg max(reg a, reg b) { return _mm256_max_ps(a, b); }  // b where either is NaN

    // 2^x = 2^n 2^f as in attention_avx512.cpp, with 2^n made from its exponent bits: x is clamped to [-127, 128], where
    // n = -127 gives the bits of 0 (so -inf, and anything below -126.5, gives 0) and n = 128 those of +inf; a NaN passes.
    static reg exp2(reg x) {
        x = _mm256_min_ps(_mm256_set1_ps(128.0f), _mm256_max_ps(_mm256_set1_ps(-127.0f), x));
        const reg n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        const reg f = _mm256_sub_ps(x, n);
        reg p = _mm256_set1_ps(1.535336188319500e-4f);
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.339887440266574e-3f));
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.618437357674640e-3f));
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.550332471162809e-2f));
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.402264791363012e-1f));
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.931472028550421e-1f));
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
        const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
        return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
    }
    static reg set_prefix(reg r, int n, float x) {
        return _mm256_blendv_ps(r, _mm256_set1_ps(x), _mm256_castsi256_ps(first(n)));
    }
    static reg replace_neg_inf(reg r, float x) {
        const reg is_neg_inf = _mm256_cmp_ps(r, _mm256_set1_ps(-__builtin_inff()), _CMP_EQ_OQ);
        return _mm256_blendv_ps(r, _mm256_set1_ps(x), is_neg_inf);
    }

    static void transpose_block(const float* src, int64_t lds, int rows, int cols, float* dst, int64_t ldd, int lanes) {
        reg r[8];
        const mask in = first(cols);
        for (int i = 0; i < 8; ++i) r[i] = i < rows ? _mm256_maskload_ps(src + i * lds, in) : _mm256_setzero_ps();
        // Pairs interleaved, then 4-float groups (each 128-bit half: rows 4g..4g+3 at one column), then the halves.
        reg t[8], u[8];
        for (int i = 0; i < 8; i += 2) {
            t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
            t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
        }
        for (int g = 0; g < 2; ++g) {
            u[4 * g + 0] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);      // columns 0 | 4
            u[4 * g + 1] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);      // columns 1 | 5
            u[4 * g + 2] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);  // columns 2 | 6
            u[4 * g + 3] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);  // columns 3 | 7
        }
        for (int j = 0; j < 4; ++j) {
            r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
            r[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
        }
        const mask out = first(lanes);
        for (int c = 0; c < cols; ++c) store_masked(dst + c * ldd, r[c], out);
    }
    static void dropout_run(const Problem& p, uint64_t e0, int n, float* out) {  // the scalar draw: 8 lanes gain little
        attention_detail::dropout_run(p, e0, n, out);
    }
};

}  // namespace

const Kernels& avx2_kernels() {
    static const Kernels ks{"avx2", &Tiles<Avx2>::forward_tile, &Tiles<Avx2>::backward_head};
    return ks;
}

}  // namespace kiln::cpu::attention_detail

// The CPU backend's vector traits, one set per ISA, for the kernel templates (gemm.h's MicroTile, conv2d_kernels.h's
// tiles), and the one runtime check of which ISA this machine runs (isa(), cached).
#pragma once

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

// KILN_CLONES("avx512f", "fma", "default") before a function of a baseline-built file compiles it once per target and
// lets the loader pick the clone for the CPU at hand (an ifunc): the way plain loops, not intrinsics, get wide vectors
// and fused multiply-adds. -ffp-contract=off holds in every clone, so every clone gives the same bits. Elsewhere than
// GCC on x86-64 Linux it compiles the baseline alone.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define KILN_CLONES(...) __attribute__((target_clones(__VA_ARGS__)))
#else
#define KILN_CLONES(...)
#endif

namespace kiln::cpu {

// The widest vector ISA a kernel set exists for: Avx2 means AVX2 with FMA; Avx512 means F, BW, VL and DQ.
enum class Isa { Baseline, Avx2, Avx512 };

// What this CPU and its OS support (CPUID plus the OS saving the wide registers), checked once: cpu_info.cpp.
Isa isa();

// Whether the hand-vectorized AVX-512 spans (elementwise_avx512.cpp, loss_avx512.cpp, reduce_avx512.cpp) may run here.
inline bool has_avx512() { return isa() == Isa::Avx512; }

// Traits V of the kernel templates: V::reg, V::W (floats per register), zero(), load(p), store(p, r), bcast(p) (p[0]
// in every lane), fma(a, b, c) = a * b + c, mul(a, b), add(a, b), load_partial(p, n) (lanes >= n zero, nothing read
// there) and hsum(r). Each ISA's struct exists only in files compiled for that ISA (the -m flags of CMakeLists.txt
// define __AVX2__ / __AVX512F__), and all have internal linkage: every instantiation is then distinct, so the linker
// can never merge an AVX-512 copy of a template into the baseline path.
namespace simd {
namespace {

#if defined(__SSE2__)
// SSE2 is part of x86-64 itself, so this width is always safe; no FMA, hence mul + add.
struct Baseline {
    using reg = __m128;
    static constexpr int W = 4;
    static reg zero() { return _mm_setzero_ps(); }
    static reg load(const float* p) { return _mm_loadu_ps(p); }
    static void store(float* p, reg r) { _mm_storeu_ps(p, r); }
    static reg bcast(const float* p) { return _mm_set1_ps(*p); }
    static reg fma(reg a, reg b, reg c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
    static reg mul(reg a, reg b) { return _mm_mul_ps(a, b); }
    static reg add(reg a, reg b) { return _mm_add_ps(a, b); }
    static reg load_partial(const float* p, int n) {
        alignas(16) float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int i = 0; i < n; ++i) t[i] = p[i];
        return _mm_load_ps(t);
    }
    static float hsum(reg r) {
        alignas(16) float t[4];
        _mm_store_ps(t, r);
        return (t[0] + t[1]) + (t[2] + t[3]);
    }
};
#else
struct Baseline {
    using reg = float;
    static constexpr int W = 1;
    static reg zero() { return 0.0f; }
    static reg load(const float* p) { return *p; }
    static void store(float* p, reg r) { *p = r; }
    static reg bcast(const float* p) { return *p; }
    static reg fma(reg a, reg b, reg c) { return a * b + c; }
    static reg mul(reg a, reg b) { return a * b; }
    static reg add(reg a, reg b) { return a + b; }
    static reg load_partial(const float* p, int n) { return n > 0 ? *p : 0.0f; }
    static float hsum(reg r) { return r; }
};
#endif

#if defined(__AVX2__) && defined(__FMA__)
struct Avx2 {
    using reg = __m256;
    static constexpr int W = 8;
    static reg zero() { return _mm256_setzero_ps(); }
    static reg load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, reg r) { _mm256_storeu_ps(p, r); }
    static reg bcast(const float* p) { return _mm256_broadcast_ss(p); }
    static reg fma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
    static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
    static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
};
#endif

#if defined(__AVX512F__)
// GCC 12's own AVX-512 headers trip -Wuninitialized inside the unpack and shuffle intrinsics that transpose16 uses
// (their unmasked forms pass an _mm512_undefined_ps() as the unused merge source), in every file built for AVX-512.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
struct Avx512 {
    using reg = __m512;
    static constexpr int W = 16;
    static reg zero() { return _mm512_setzero_ps(); }
    static reg load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, reg r) { _mm512_storeu_ps(p, r); }
    static reg bcast(const float* p) { return _mm512_set1_ps(*p); }
    static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
    static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
    static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
    static reg load_partial(const float* p, int n) { return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p); }
    static float hsum(reg r) {  // once per tile and batch: a plain store beats GCC 12's noisy reduce intrinsic
        alignas(64) float t[16];
        _mm512_store_ps(t, r);
        float s8[8];
        for (int i = 0; i < 8; ++i) s8[i] = t[i] + t[i + 8];
        return ((s8[0] + s8[4]) + (s8[1] + s8[5])) + ((s8[2] + s8[6]) + (s8[3] + s8[7]));
    }
    // dst[c * ld_dst + r] = src[r * ld_src + c] for r, c < 16, in registers: 16 loads, 64 shuffles, 16 stores
    // instead of 256 scattered scalar stores (the GEMM's packing of an operand stored transposed).
    static void transpose16(const float* src, int64_t ld_src, float* dst, int64_t ld_dst) {
        __m512 r[16], t[16];
        for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * ld_src);
        for (int i = 0; i < 8; ++i) {  // per 128-bit lane L: rows 2i, 2i+1 interleaved at columns 4L..4L+3
            t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
            t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
        }
        for (int g = 0; g < 4; ++g) {  // u[4g + c], lane L: column 4L + c of rows 4g..4g+3
            const __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 1]);
            const __m512d c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
            r[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
            r[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
            r[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
            r[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
        }
        for (int c = 0; c < 4; ++c) {  // gather lane L of u[c], u[4+c], u[8+c], u[12+c]: column 4L + c, all rows
            const __m512 x = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x44), y = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xEE);
            const __m512 xp = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x44);
            const __m512 yp = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xEE);
            t[c] = _mm512_shuffle_f32x4(x, xp, 0x88);
            t[4 + c] = _mm512_shuffle_f32x4(x, xp, 0xDD);
            t[8 + c] = _mm512_shuffle_f32x4(y, yp, 0x88);
            t[12 + c] = _mm512_shuffle_f32x4(y, yp, 0xDD);
        }
        for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + i * ld_dst, t[i]);
    }
};
#endif

}  // namespace
}  // namespace simd
}  // namespace kiln::cpu

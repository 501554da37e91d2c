// The CPU backend's vector traits, one set per ISA, for the kernel templates (sgemm.h's MicroTile, conv2d_kernels.h's
// tiles), and the one runtime check of which ISA this machine runs (isa(), cached).
#pragma once

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

// KILN_VECTOR_CLONES before a function of a baseline-built file compiles it once per target and lets the loader pick
// the clone for the CPU at hand (an ifunc): the way plain loops, not intrinsics, get wide vectors and fused
// multiply-adds. -ffp-contract=off holds in every clone, so every clone gives the same bits. The three targets:
//   avx512f          16 lanes (it implies AVX2 and FMA);
//   arch=x86-64-v3   8 lanes with AVX2 and FMA together. A clone can name one feature only, and neither alone will
//                    do: under "avx2" kiln_fma is a libm call per element (no FMA), which stops vectorization; under
//                    "fma" the integer half of exp's 2^n has no 256-bit instructions (AVX1), so GCC vectorizes at 4
//                    lanes or not at all. "arch=haswell" has both but retunes the clone, and GCC then declines to
//                    inline the untargeted helpers (kernels/common) into it;
//   default          the x86-64 baseline (SSE2).
// On a 2-core AVX2 EPYC the "fma" clone left the LSTM cell pass scalar: 20% of the large LSTM's forward+backward.
// -fno-trapping-math (KILN_CPU_FLAGS) lets the vectorizer evaluate both sides of a select, as in the gate functions'
// `x >= 0 ? s : e * s`; without it only AVX-512's masked arithmetic could vectorize such a loop.
// Elsewhere than GCC on x86-64 Linux it compiles the baseline alone; so does a ThreadSanitizer build, since GCC
// instruments the resolver it writes, which the loader runs before TSan's runtime is up (every such binary crashed
// before main).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && !defined(__SANITIZE_THREAD__)
#define KILN_VECTOR_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define KILN_VECTOR_CLONES
#endif

namespace kiln::cpu {

// The widest vector ISA a kernel set exists for: Avx2 means AVX2 with FMA; Avx512 means F, BW, VL and DQ.
enum class Isa { Baseline, Avx2, Avx512 };

// What this CPU and its OS support (CPUID plus the OS saving the wide registers), checked once: cpu_info.cpp.
Isa isa();

// A family's table of vector spans for this CPU: the AVX-512 set, the AVX2 set, or nullptr where it has neither (the
// family then runs its portable loops).
template <class Spans>
const Spans* spans_for_isa(const Spans& avx512, const Spans& avx2) {
    switch (isa()) {
        case Isa::Avx512: return &avx512;
        case Isa::Avx2: return &avx2;
        default: return nullptr;
    }
}

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
    static reg load_partial(const float* p, int n) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane));
    }
    static float hsum(reg r) {
        alignas(32) float t[8];
        _mm256_store_ps(t, r);
        return ((t[0] + t[4]) + (t[1] + t[5])) + ((t[2] + t[6]) + (t[3] + t[7]));
    }
};
#endif

#if defined(__AVX512F__)
// GCC 12's own AVX-512 headers trip -Wuninitialized inside the unpack and shuffle intrinsics that transpose16 uses
// (their unmasked forms pass an _mm512_undefined_ps() as the unused merge source), in every file built for AVX-512.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
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
    // In-register transpose of 16 rows of 16 floats: r[i] becomes column i. Three rounds of unpack / shuffle.
    static void transpose16_regs(reg (&r)[16]) {
        reg t[16];
        for (int i = 0; i < 8; ++i) {  // per 128-bit lane: rows 2i and 2i+1 interleaved
            t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
            t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
        }
        for (int i = 0; i < 4; ++i) {  // per lane L: column 4L + c of rows 4i..4i+3 in r[4i + c]
            const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
            const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
            r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
            r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
            r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
            r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
        }
        for (int i = 0; i < 4; ++i) {  // then the 128-bit lanes across registers
            t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
            t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
            t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
            t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
        }
        for (int i = 0; i < 8; ++i) {
            r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
            r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
        }
    }
    // dst[c * ld_dst + r] = src[r * ld_src + c] for r, c < 16: 16 loads, the register transpose, 16 stores, instead
    // of 256 scattered scalar stores (the GEMM's packing of an operand stored transposed).
    static void transpose16(const float* src, int64_t ld_src, float* dst, int64_t ld_dst) {
        reg r[16];
        for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * ld_src);
        transpose16_regs(r);
        for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + i * ld_dst, r[i]);
    }
};
#endif

}  // namespace
}  // namespace simd
}  // namespace kiln::cpu

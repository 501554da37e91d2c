// fp32 <-> bf16 on the CPU. The portable loop is kernels/common/bf16.h element by element and is the reference; on an
// AVX-512 CPU the same integer rounding runs 16 lanes at a time (convert_avx512.cpp), and on one with AVX512_BF16 the
// rounding is vcvtneps2bf16, whose only difference (fp32 subnormals flushed to zero) is patched back per vector. Every
// path gives the bits of bf16.h, so the choice depends on the CPU alone and never shows in a result.
#include "convert.h"

#include "common/bf16.h"
#include "cpu/convert_paths.h"
#include "cpu/parallel.h"
#include "cpu/simd.h"

namespace kiln::cpu {

namespace {

constexpr int64_t kGrain = 1 << 16;  // elements per task: 384 KiB of traffic, far above the pool's hand-off cost

KILN_VECTOR_CLONES
void portable_f32_to_bf16(const float* x, kiln_bf16* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = f32_to_bf16(x[i]);
}

KILN_VECTOR_CLONES
void portable_bf16_to_f32(const kiln_bf16* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_f32(x[i]);
}

bool cpu_has_avx512bf16() {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16");
#else
    return false;
#endif
}

convert_detail::Path best_path() {
    using convert_detail::Path;
    static const Path path = convert_detail::available(Path::Avx512Bf16) ? Path::Avx512Bf16
                             : convert_detail::available(Path::Avx512)   ? Path::Avx512
                                                                         : Path::Portable;
    return path;
}

}  // namespace

namespace convert_detail {

bool available(Path path) {
    switch (path) {
        case Path::Portable: return true;
        case Path::Avx512: return isa() == Isa::Avx512;
        case Path::Avx512Bf16: {
            static const bool bf16 = isa() == Isa::Avx512 && cpu_has_avx512bf16();
            return bf16;
        }
    }
    return false;
}

void f32_to_bf16_span(Path path, const float* x, kiln_bf16* y, int64_t n) {
    switch (path) {
        case Path::Avx512Bf16: avx512bf16_f32_to_bf16(x, y, n); return;
        case Path::Avx512: avx512_f32_to_bf16(x, y, n); return;
        case Path::Portable: portable_f32_to_bf16(x, y, n); return;
    }
}

}  // namespace convert_detail

void convert_f32_to_bf16(const float* x, kiln_bf16* y, int64_t n) {
    const convert_detail::Path path = best_path();
    parallel_for(n, [&](int64_t i0, int64_t i1) { convert_detail::f32_to_bf16_span(path, x + i0, y + i0, i1 - i0); },
                 kGrain);
}

void convert_bf16_to_f32(const kiln_bf16* x, float* y, int64_t n) {
    const bool avx512 = isa() == Isa::Avx512;
    parallel_for(n, [&](int64_t i0, int64_t i1) {
        if (avx512) convert_detail::avx512_bf16_to_f32(x + i0, y + i0, i1 - i0);
        else portable_bf16_to_f32(x + i0, y + i0, i1 - i0);
    }, kGrain);
}

}  // namespace kiln::cpu

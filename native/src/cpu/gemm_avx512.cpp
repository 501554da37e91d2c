// AVX-512 instantiation of the GEMM packing + micro-kernel template (gemm.h). Compiled with -mavx512f etc.;
// the driver only calls into it after __builtin_cpu_supports("avx512f") said yes.
#include <immintrin.h>

#include "cpu/gemm.h"

namespace kiln::cpu::gemm_detail {
namespace {

struct Avx512 {
    using reg = __m512;
    static constexpr int W = 16;
    static reg zero() { return _mm512_setzero_ps(); }
    static reg load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, reg r) { _mm512_storeu_ps(p, r); }
    static reg bcast(const float* p) { return _mm512_set1_ps(*p); }
    static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
    static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
};

// 14 x 32: 28 accumulators + 2 B registers + 1 broadcast fill 31 of the 32 zmm registers; each k step is
// 28 FMAs against 2 loads + 14 broadcasts, enough independent chains to cover FMA latency on both pipes.
using Tile = MicroTile<Avx512, 14, 2>;

}  // namespace

const KernelSet& avx512_kernels() {
    static const KernelSet ks{"avx512", 14, Tile::NR, 14 * 146, 384, 384, Tile::pack_a, Tile::pack_b, Tile::kernel};
    return ks;
}

}  // namespace kiln::cpu::gemm_detail

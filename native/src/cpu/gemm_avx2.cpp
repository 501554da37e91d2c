// AVX2 + FMA instantiation of the GEMM packing + micro-kernel template (gemm.h), for x86-64 CPUs without
// AVX-512. Compiled with -mavx2 -mfma; the driver calls it only after checking avx2 and fma at runtime.
#include <immintrin.h>

#include "cpu/gemm.h"

namespace kiln::cpu::gemm_detail {
namespace {

struct Avx2 {
    using reg = __m256;
    static constexpr int W = 8;
    static reg zero() { return _mm256_setzero_ps(); }
    static reg load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, reg r) { _mm256_storeu_ps(p, r); }
    static reg bcast(const float* p) { return _mm256_broadcast_ss(p); }
    static reg fma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
    static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
};

// 6 x 16: 12 accumulators + 2 B registers + 1 broadcast = 15 of the 16 ymm registers (the classic Haswell tile).
using Tile = MicroTile<Avx2, 6, 2>;

}  // namespace

const KernelSet& avx2_kernels() {
    // kc = 256: an A micro-panel (256, 6) is 6 KiB of L1; nc = 256: the B block (256, 256) is 256 KiB, inside
    // the 512 KiB+ L2 of AVX2-era cores; mc = 2040 rows: the A block is 2 MiB of L3.
    static const KernelSet ks{"avx2", 6, Tile::NR, 6 * 340, 256, 256, Tile::pack_a, Tile::pack_b, Tile::kernel};
    return ks;
}

}  // namespace kiln::cpu::gemm_detail

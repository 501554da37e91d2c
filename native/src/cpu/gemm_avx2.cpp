// AVX2 + FMA instantiation of the GEMM packing + micro-kernel template (sgemm.h), for x86-64 CPUs without
// AVX-512. Compiled with -mavx2 -mfma; the driver calls it only where kiln::cpu::isa() found AVX2 and FMA.
#include "cpu/sgemm.h"
#include "cpu/simd.h"

namespace kiln::cpu::gemm_detail {

const KernelSet& avx2_kernels() {
    // 6 x 16: 12 accumulators + 2 B registers + 1 broadcast = 15 of the 16 ymm registers (the classic Haswell
    // tile). kc = 256: an A micro-panel (256, 6) is 6 KiB of L1; nc = 256: the B block (256, 256) is 256 KiB, inside
    // the 512 KiB+ L2 of AVX2-era cores; mc = 2040 rows: the A block is 2 MiB of L3.
    static const KernelSet ks = kernel_set<MicroTile<simd::Avx2, 6, 2>>("avx2", 6 * 340, 256, 256);
    return ks;
}

}  // namespace kiln::cpu::gemm_detail

// AVX-512 instantiation of the GEMM packing + micro-kernel template (sgemm.h). Compiled with -mavx512f etc.; the
// driver only calls into it where kiln::cpu::isa() found AVX-512.
#include "cpu/sgemm.h"
#include "cpu/simd.h"

namespace kiln::cpu::gemm_detail {

// 6 x 64: 24 accumulators + 4 B registers + 1 broadcast = 29 of the 32 zmm registers. Each k step is 24 FMAs
// (12 cycles on two 512-bit FMA pipes) against 4 loads + 6 broadcasts, and 24 independent chains cover the
// 4-cycle FMA latency. Measured on Zen 5 against 14x32, 12x32 and 8x48 (see the benchmark): all within a few
// percent single-threaded, 6x64 the steadiest with two threads.
// kc = 384: an A micro-panel (384, 6) is 9 KiB of L1; nc = 384: the B block (384, 384) is 576 KiB of a 1 MiB L2;
// mc = 2052 rows: the A block is 3 MiB of L3 and covers M = 2048 in one piece.
const KernelSet& avx512_kernels() {
    static const KernelSet ks = kernel_set<MicroTile<simd::Avx512, 6, 4>>("avx512", 6 * 342, 384, 384);
    return ks;
}

// 8 x 32 for products with few rows (an LSTM step: 16 batch rows per thread), where 6 x 64 computes 18 rows for 16
// (12% of its FMAs on zero padding). 8 x 32 computes exactly 16, and its width divides the LSTM's N (4h = 1024 in
// the forward, h = 256 for dh in the backward), where a 48-wide tile padded 1024 to 1056 and 256 to 288. B, the
// operand streamed from L2 and L3 at small M, costs the same per FMA as in 8 x 48 (2 loads for 16 FMAs); the extra
// broadcasts of A come from L1. 16 accumulators + 2 B + 1 broadcast = 19 zmm registers, and 16 independent chains
// still cover the 4-cycle FMA latency of two pipes. Measured in one process on the large LSTM's steps (N=32,
// H=256, two threads): the forward recurrence 3% faster than with 8 x 48, the backward's dh products (6 x 64 until
// then) 13-17% faster.
// The same kc as the main set, so each C element sums its products in the same order (same bits).
const KernelSet& avx512_small_m_kernels() {
    static const KernelSet ks = kernel_set<MicroTile<simd::Avx512, 8, 2>>("avx512", 8 * 256, 384, 384);
    return ks;
}

}  // namespace kiln::cpu::gemm_detail

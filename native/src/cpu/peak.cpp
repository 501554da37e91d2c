// The host's roofline, measured (kiln_measure_peak): fp32 FMA throughput of every thread at once, and the bandwidth
// of a parallel copy. The benchmarks print their figures as fractions of these, never of a datasheet's.
#include "peak.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>

#include "cpu/cpu_info.h"
#include "cpu/parallel.h"

namespace kiln::cpu {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// 14 independent FMA chains (registers 2..15; 0 and 1 are the sources): more than latency x pipes (4 x 2 on recent
// cores), so the loop is throughput-bound. Written in asm so the compiler can neither spill the chains nor drop
// them; all-zero inputs keep denormals out of the timing. Each function is compiled for its ISA only (target
// attribute) and called only when the CPU has it.
#define KILN_FMA(R, d) "vfmadd231ps %%" R "0, %%" R "1, %%" R #d "\n\t"
#define KILN_FMA_CHAINS(R)                                                                               \
    KILN_FMA(R, 2) KILN_FMA(R, 3) KILN_FMA(R, 4) KILN_FMA(R, 5) KILN_FMA(R, 6) KILN_FMA(R, 7) KILN_FMA(R, 8) \
    KILN_FMA(R, 9) KILN_FMA(R, 10) KILN_FMA(R, 11) KILN_FMA(R, 12) KILN_FMA(R, 13) KILN_FMA(R, 14) KILN_FMA(R, 15)
#define KILN_FMA_LOOP(name, isa, R)                                                                     \
    __attribute__((target(isa))) void name(int64_t iters) {                                            \
        int64_t n = iters;                                                                             \
        __asm__ volatile("vxorps %%xmm0, %%xmm0, %%xmm0\n\tvxorps %%xmm1, %%xmm1, %%xmm1\n\t1:\n\t"    \
                         KILN_FMA_CHAINS(R) "dec %0\n\tjnz 1b\n\t"                                    \
                         : "+r"(n)                                                                     \
                         :                                                                             \
                         : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",      \
                           "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc");         \
    }

KILN_FMA_LOOP(fma_loop_avx512, "avx512f", "zmm")
KILN_FMA_LOOP(fma_loop_avx2, "avx2,fma", "ymm")

constexpr int kChains = 14;

// GFLOP/s of every pool thread running the loop at once. The rate is total work over wall time, so a pool that
// ran the chunks one after another (busy with another caller) reports a lower figure, never an inflated one.
double fma_gflops(int64_t iters) {
    const bool avx512 = std::strcmp(vector_isa(), "avx512") == 0;
    const bool avx2 = std::strcmp(vector_isa(), "avx2") == 0;
    const int lanes = avx512 ? 16 : 8;
    if (!avx512 && !avx2) return 0.0;  // an SSE-only CPU: no FMA instruction to measure
    const int threads = num_threads();
    const auto t0 = Clock::now();
    parallel_for(threads, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) avx512 ? fma_loop_avx512(iters) : fma_loop_avx2(iters);
    });
    const double seconds = seconds_since(t0);
    return double(threads) * double(iters) * kChains * lanes * 2.0 / seconds / 1e9;
}

// GB/s (read + written) of a copy of `bytes` split across the pool.
double copy_gbps(const char* src, char* dst, size_t bytes) {
    constexpr int64_t kChunk = 1 << 20;
    const int64_t chunks = (int64_t)((bytes + kChunk - 1) / kChunk);
    const auto t0 = Clock::now();
    parallel_for(chunks, [&](int64_t b, int64_t e) {
        const size_t from = (size_t)b * kChunk, to = std::min(bytes, (size_t)e * kChunk);
        std::memcpy(dst + from, src + from, to - from);
    });
    return 2.0 * (double)bytes / seconds_since(t0) / 1e9;
}

}  // namespace

void measure_peak(kiln_device_peak* out) {
    double fma = 0.0, copy = 0.0;
    for (int rep = 0; rep < 3; ++rep) fma = std::max(fma, fma_gflops(20'000'000));
    constexpr size_t kBytes = size_t(128) << 20;
    std::unique_ptr<char[]> src(new char[kBytes]), dst(new char[kBytes]);
    std::memset(src.get(), 1, kBytes);  // touched: the copy measures memory, not page faults
    std::memset(dst.get(), 0, kBytes);
    for (int rep = 0; rep < 3; ++rep) copy = std::max(copy, copy_gbps(src.get(), dst.get(), kBytes));
    out->fma_gflops = fma;
    out->copy_gbps = copy;
}

}  // namespace kiln::cpu

// Benchmark of the CPU sgemm at 512/1024/2048 square: GFLOP/s, % of the machine's measured FMA peak, and the
// ratio against OpenBLAS (loaded at run time, if found) measured in the same run on the same inputs.
// Usage: gemm_cpu_bench [path/to/libopenblas.so]   (or KILN_BENCH_BLAS=path). Threads: KILN_NUM_THREADS.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

#include "bench_timing.h"
#include "cpu/parallel.h"
#include "cpu/sgemm.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

constexpr int kSizes[] = {512, 1024, 2048};

// ---- The peer: OpenBLAS's cblas_sgemm, found at run time so the benchmark builds without it. --------------

enum { kRowMajor = 101, kNoTrans = 111 };
using Sgemm32 = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float,
                         float*, int);
using Sgemm64 = void (*)(int, int, int, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                         int64_t, float, float*, int64_t);

struct Peer {
    std::string name = "none";
    Sgemm32 sgemm32 = nullptr;  // LP64 build (32-bit dims)
    Sgemm64 sgemm64 = nullptr;  // ILP64 build (64-bit dims), e.g. numpy's scipy-openblas64
    bool ok() const { return sgemm32 || sgemm64; }
    void run(int n, const float* a, const float* b, float* c) const {  // C = A * B, all (n, n)
        if (sgemm64)
            sgemm64(kRowMajor, kNoTrans, kNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        else
            sgemm32(kRowMajor, kNoTrans, kNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    }
};

void* first_symbol(void* lib, std::initializer_list<const char*> names) {
    for (const char* s : names)
        if (void* f = dlsym(lib, s)) return f;
    return nullptr;
}

Peer load_peer(const char* path, int threads) {
    Peer p;
    void* lib = nullptr;
    for (const char* c : {path, "libopenblas.so.0", "libopenblas.so", "libopenblas64_.so.0"})
        if (c && (lib = dlopen(c, RTLD_NOW | RTLD_LOCAL))) break;
    if (!lib) return p;
    p.sgemm32 = reinterpret_cast<Sgemm32>(dlsym(lib, "cblas_sgemm"));
    if (!p.sgemm32)
        p.sgemm64 = reinterpret_cast<Sgemm64>(first_symbol(lib, {"scipy_cblas_sgemm64_", "cblas_sgemm64_"}));
    // Same thread count as Kiln, and its core name, whichever symbol flavour this build exports.
    if (auto set = reinterpret_cast<void (*)(int)>(first_symbol(
            lib, {"openblas_set_num_threads", "scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_"})))
        set(threads);
    p.name = "OpenBLAS";
    if (auto core = reinterpret_cast<const char* (*)()>(first_symbol(
            lib, {"openblas_get_corename", "scipy_openblas_get_corename64_", "openblas_get_corename64_"})))
        p.name += std::string(" (") + core() + " kernels)";
    return p;
}

// ---- Timing and validation ----------------------------------------------------------------------------------

struct Result {
    double best_gflops = 0.0, median_gflops = 0.0;
    bool valid = false;
};

// Compares 64 sampled entries of C = A * B, all (n, n), with double-precision dot products.
bool validate(int n, const float* a, const float* b, const float* c) {
    uint64_t s = 88172645463325252ull;
    for (int t = 0; t < 64; ++t) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        const int64_t i = int64_t(s % n), j = int64_t((s >> 32) % n);
        double ref = 0.0, mag = 0.0;
        for (int64_t k = 0; k < n; ++k) {
            const double p = double(a[i * n + k]) * b[k * n + j];
            ref += p, mag += std::fabs(p);
        }
        if (std::fabs(c[i * n + j] - ref) > 1e-5 * std::sqrt(double(n)) * mag) return false;
    }
    return true;
}

// Runs gemm(n, a, b, c) once to validate, twice to warm up, then timed until at least 10 runs and 1.5 s;
// GFLOP/s of the best run and of the median. The best run is the figure to compare: on a shared machine a
// burst of someone else's work only ever makes runs slower.
template <class Gemm>
Result measure(int n, Gemm&& gemm) {
    const size_t nn = size_t(n) * n;
    std::vector<float> a(nn), b(nn), c(nn);
    uint64_t s = 0x2545F4914F6CDD1Dull;
    for (auto* v : {&a, &b})
        for (auto& x : *v) s ^= s << 13, s ^= s >> 7, s ^= s << 17, x = float(int64_t(s >> 41) - (1 << 22)) / (1 << 22);

    Result r;
    gemm(n, a.data(), b.data(), c.data());
    r.valid = validate(n, a.data(), b.data(), c.data());
    for (int i = 0; i < 2; ++i) gemm(n, a.data(), b.data(), c.data());
    std::vector<double> t;
    const auto start = Clock::now();
    while (t.size() < 10 || seconds_since(start) < 1.5) {
        const auto t0 = Clock::now();
        gemm(n, a.data(), b.data(), c.data());
        t.push_back(seconds_since(t0));
    }
    std::sort(t.begin(), t.end());
    const double flops = 2.0 * n * n * n;
    r.best_gflops = flops / t.front() / 1e9;
    r.median_gflops = flops / t[t.size() / 2] / 1e9;
    return r;
}

}  // namespace

using kiln::bench::load_average;

int main(int argc, char** argv) {
    const int threads = kiln::cpu::num_threads();
    const char* isa = kiln::cpu::gemm_isa();
    std::printf("kiln sgemm bench: isa %s, %d threads, %u hardware threads, load average %.2f\n", isa, threads,
                std::thread::hardware_concurrency(), load_average());

    const double peak = kiln::bench::cpu_fma_peak_gflops();
    std::printf("measured fp32 FMA peak (kiln_measure_peak), %d threads: %.1f GFLOP/s\n", threads, peak);

    // Kiln first, the peer after: OpenBLAS workers keep spinning for a while after each call and would steal
    // the cores from whatever runs next.
    std::vector<Result> kiln;
    for (int n : kSizes)
        kiln.push_back(measure(n, [](int n, const float* a, const float* b, float* c) {
            kiln::cpu::sgemm(false, false, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        }));

    const Peer peer = load_peer(argc > 1 ? argv[1] : std::getenv("KILN_BENCH_BLAS"), threads);
    std::vector<Result> other;
    if (peer.ok())
        for (int n : kSizes)
            other.push_back(measure(n, [&](int n, const float* a, const float* b, float* c) { peer.run(n, a, b, c); }));
    std::printf("peer: %s%s\n\n", peer.name.c_str(), peer.ok() ? "" : " (pass a libopenblas path to compare)");

    std::printf("%6s %10s %12s %8s %15s %10s\n", "n", "best GF/s", "median GF/s", "% peak", "peer best GF/s",
                "kiln/peer");
    bool ok = true;
    for (size_t i = 0; i < kiln.size(); ++i) {
        const Result& k = kiln[i];
        const Result p = peer.ok() ? other[i] : Result{};
        std::printf("%6d %10.1f %12.1f %7.1f%% %15.1f %10.2f%s%s\n", kSizes[i], k.best_gflops, k.median_gflops,
                    peak > 0 ? 100.0 * k.best_gflops / peak : 0.0, p.best_gflops,
                    p.best_gflops > 0 ? k.best_gflops / p.best_gflops : 0.0, k.valid ? "" : "  KILN RESULT WRONG",
                    !peer.ok() || p.valid ? "" : "  PEER RESULT WRONG");
        ok = ok && k.valid;
    }
    // Machine-readable lines for bench/compare/cpu_kernels.py (median time, as its PyTorch side uses).
    for (size_t i = 0; i < kiln.size(); ++i) {
        const double n = kSizes[i], ms = kiln[i].median_gflops > 0 ? 2 * n * n * n / kiln[i].median_gflops / 1e6 : 0;
        std::printf("RESULT gemm n%d gemm %.4f %.2f\n", kSizes[i], ms, kiln[i].median_gflops);
    }
    return ok ? 0 : 1;
}

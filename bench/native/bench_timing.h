// Timing helpers the CPU benchmarks share: the median of several timed runs after a warm-up, the load average each
// table reports beside its figures (the machine is shared: a figure without it cannot be judged), and the measured
// FMA peak their fractions are of.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "kiln/kiln.h"

namespace kiln::bench {

// Exits with the library's message when a setup call fails (a benchmark has nothing to measure then).
inline void check(kiln_status s, const char* what) {
    if (s != KILN_OK) {
        std::fprintf(stderr, "%s failed: %s\n", what, kiln_last_error());
        std::exit(1);
    }
}

inline double load_average() {
    double l = -1;
    if (FILE* f = std::fopen("/proc/loadavg", "r")) {
        if (std::fscanf(f, "%lf", &l) != 1) l = -1;
        std::fclose(f);
    }
    return l;
}

// Milliseconds of the median of `runs` calls of fn, after untimed ones (pool threads, page faults, packing buffers):
// at least three, and at least 200 ms of them. A count alone is not enough for sub-millisecond calls: the first case
// of a process was seen to run 3x slower for its whole timed series (median 1.37 ms against 0.43 ms for the
// same LSTM call a moment later) while the machine settled onto the work, so the warm-up lasts as long as that.
template <class Fn>
double median_ms(int runs, Fn&& fn) {
    const auto warm_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    for (int i = 0; i < 3 || std::chrono::steady_clock::now() < warm_until; ++i) fn();
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

// The CPU's measured fp32 FMA peak in GFLOP/s, all of the library's threads at once (kiln_measure_peak: the one
// measurement every benchmark and `kiln bench` divide by).
inline double cpu_fma_peak_gflops() {
    kiln_context* ctx = nullptr;
    check(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx), "kiln_context_create");
    kiln_device_peak peak{};
    check(kiln_measure_peak(ctx, &peak), "kiln_measure_peak");
    kiln_context_destroy(ctx);
    return peak.fma_gflops;
}

}  // namespace kiln::bench

// Minimal assertion helpers for the native tests: count, print failures, never abort, summarize at the end.
#pragma once

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kiln/kiln.h"

namespace kiln::test {

// Atomic, so that EXPECT may be called from a test's worker threads too.
struct Tally {
    std::atomic<int> passed{0}, failed{0};
};
inline Tally& tally() {
    static Tally t;
    return t;
}
inline void expect(bool ok, const char* what, const char* file, int line) {
    if (ok) {
        tally().passed++;
    } else {
        tally().failed++;
        std::printf("FAILED %s:%d: %s\n", file, line, what);
    }
}
inline int finish(const char* suite) {
    std::printf("%s: %d passed, %d failed\n", suite, tally().passed.load(), tally().failed.load());
    return tally().failed == 0 ? 0 : 1;
}

}  // namespace kiln::test

namespace kiln::test {

// Whether the last Kiln error message contains `needle`; prints the message when it does not.
inline bool message_has(const char* needle) {
    if (std::strstr(kiln_last_error(), needle)) return true;
    std::printf("  message \"%s\" lacks \"%s\"\n", kiln_last_error(), needle);
    return false;
}

// Deterministic uniform floats in [lo, hi) from a 64-bit LCG (the tests must not depend on the code under test).
inline std::vector<float> uniform(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    std::vector<float> v(n);
    uint64_t s = 0x9E3779B97F4A7C15ull ^ (seed * 0xBF58476D1CE4E5B9ull);
    for (auto& x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = lo + (hi - lo) * (float)((s >> 40) * 0x1p-24);
    }
    return v;
}

inline std::vector<double> widen(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

inline double dot(const std::vector<double>& a, const std::vector<float>& w) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * w[i];
    return s;
}

// |got - want| <= atol + rtol |want| for one value; a NaN never passes.
inline bool close(double got, double want, double rtol, double atol) {
    return std::fabs(got - want) <= atol + rtol * std::fabs(want) && !std::isnan(got);
}

// |got - want| <= atol + rtol |want| elementwise (NaN matches NaN); prints the first miss.
inline bool all_close(const std::string& what, const float* got, const double* want, size_t n, double rtol, double atol) {
    for (size_t i = 0; i < n; ++i) {
        if (std::isnan(got[i]) && std::isnan(want[i])) continue;
        if (!(std::fabs((double)got[i] - want[i]) <= atol + rtol * std::fabs(want[i]))) {
            std::printf("  %s: [%zu] got %.9g, want %.9g\n", what.c_str(), i, got[i], want[i]);
            return false;
        }
    }
    return true;
}

inline bool all_close(const std::string& what, const std::vector<float>& got, const std::vector<double>& want,
                      double rtol, double atol) {
    if (got.size() != want.size()) {
        std::printf("  %s: size %zu, want %zu\n", what.c_str(), got.size(), want.size());
        return false;
    }
    return all_close(what, got.data(), want.data(), got.size(), rtol, atol);
}

// How a gradient is compared with central differences: tolerances, and which coordinates are probed (every one
// when there are at most every_up_to, else about `samples` spread over the input).
struct FiniteDifference {
    double rtol = 1e-4;
    double atol = 2e-6;
    size_t every_up_to = 1200;
    size_t samples = 200;
};

// The gradient `got` of L at x against central differences of L, a double function: h = 1e-4 in double puts
// truncation (~h^2) and round-off (~1e-16/h) far below fp32 resolution.
inline bool grad_matches(const std::string& what, const std::function<double(const std::vector<double>&)>& L,
                         std::vector<double> x, const std::vector<float>& got, const FiniteDifference& fd = {}) {
    const double h = 1e-4;
    const size_t step = x.size() <= fd.every_up_to ? 1 : x.size() / fd.samples;
    for (size_t i = 0; i < x.size(); i += step) {
        const double x0 = x[i];
        x[i] = x0 + h;
        const double lp = L(x);
        x[i] = x0 - h;
        const double lm = L(x);
        x[i] = x0;
        const double diff = (lp - lm) / (2 * h);
        if (!(std::fabs(got[i] - diff) <= fd.atol + fd.rtol * std::fabs(diff))) {
            std::printf("  %s: d/dx[%zu] got %.9g, finite difference %.9g\n", what.c_str(), i, got[i], diff);
            return false;
        }
    }
    return true;
}

}  // namespace kiln::test

#define EXPECT(cond) kiln::test::expect((cond), #cond, __FILE__, __LINE__)

// What the native benchmarks share, CPU (*_cpu_bench.cpp) and GPU (*_gpu_bench.cu) alike: the benchmark shapes, so
// both backends (and bench/compare's tables) time the same layers, and the deterministic input generator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/conv_geometry.h"

namespace kiln::bench {

// n floats uniform in [lo, hi) from a 64-bit LCG: the same inputs on every run and in every benchmark.
inline std::vector<float> uniform(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    std::vector<float> v(n);
    uint64_t s = 0x9E3779B97F4A7C15ull ^ seed;
    for (auto& x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = lo + (hi - lo) * (float)((s >> 40) * 0x1p-24);
    }
    return v;
}

// KILN_BENCH_SMOKE=1 (bench/gpu-check.sh --emulate sets it): a rehearsal, not a measurement. The GPU benchmarks then
// run only their smallest work with the fewest runs, so that their own code (the check against the CPU, the event
// timing, the peak they divide by, the table and the RESULT lines) runs on native/emu's emulated device in seconds
// before a GPU's minutes are spent on it. Times and rates from such a run mean nothing.
inline bool smoke_run() {
    const char* e = std::getenv("KILN_BENCH_SMOKE");
    return e && *e && std::strcmp(e, "0") != 0;
}

// The shapes a benchmark runs: all of them, or the first alone in a smoke run.
template <class Shape>
std::vector<Shape> shapes_to_run(const std::vector<Shape>& all) {
    return smoke_run() && !all.empty() ? std::vector<Shape>{all.front()} : all;
}

// ---- conv2d: the CNN's two layers at batch 64 and a ResNet 3x3 layer (as bench/compare/cpu_kernels.py) -----------

struct ConvShape {
    const char* name;
    conv::Geometry g;
};

// Square r x r kernel, stride 1, dilation 1.
inline conv::Geometry conv_geom(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t r, int32_t pad) {
    conv::Geometry g{n, c, h, w, k, r, r, 1, 1, pad, pad, 1, 1, 0, 0};
    g.p = conv::output_extent(h, r, 1, pad, 1);
    g.q = conv::output_extent(w, r, 1, pad, 1);
    return g;
}

inline std::vector<ConvShape> conv_shapes() {
    return {{"cnn1-n64-1x32-3x3-28", conv_geom(64, 1, 28, 28, 32, 3, 0)},
            {"cnn2-n64-32x64-3x3-13", conv_geom(64, 32, 13, 13, 64, 3, 0)},
            {"resnet-n32-64x64-3x3-56-p1", conv_geom(32, 64, 56, 56, 64, 3, 1)}};
}

// ---- lstm: the RNN's layer and a larger one --------------------------------------------------------------------

struct LstmShape {
    const char* name;
    int64_t n, t, f, h;
};
constexpr LstmShape kLstmShapes[] = {{"n64_t28_f28_h64", 64, 28, 28, 64}, {"n32_t100_f256_h256", 32, 100, 256, 256}};

}  // namespace kiln::bench

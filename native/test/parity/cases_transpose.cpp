// Parity cases for the transpose family: the GPU's tiled path (single floats: partial tiles, several planes), its
// element path (runs shorter than a warp) and its warp-per-run path (32 floats and more), each bit-identical to the
// CPU's, as a copy must be.
#include <string>

#include "parity/harness.h"

namespace kiln::parity {
namespace {

void add(std::vector<OpCase>& cases, int64_t outer, int64_t rows, int64_t mid, int64_t cols, int64_t inner) {
    const std::string shape = "(" + std::to_string(outer) + "," + std::to_string(rows) + "," + std::to_string(mid) +
                              "," + std::to_string(cols) + "," + std::to_string(inner) + ")";
    const size_t n = (size_t)(outer * rows * mid * cols * inner);
    const std::vector<float> x = host_uniform(n, (uint32_t)(n + (size_t)rows), -3.0f, 3.0f);
    cases.push_back({"transpose", shape, 0.0, {in_f32(x), out_f32(n)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_transpose_f32(ctx, (const float*)p[0], (float*)p[1], outer, rows, mid, cols,
                                                   inner);
                     }});
}

std::vector<OpCase> transpose_cases() {
    std::vector<OpCase> cases;
    add(cases, 1, 1, 1, 1, 1);
    add(cases, 1, 32, 1, 32, 1);      // one whole tile
    add(cases, 1, 33, 1, 65, 1);      // partial tiles on both sides
    add(cases, 3, 100, 4, 7, 1);      // planes between the axes, a narrow matrix
    add(cases, 2, 1000, 1, 1003, 1);  // many tiles
    add(cases, 64, 50, 8, 64, 1);     // the Transformer's heads: (N, T, H, D) to (N, D, H, T)
    add(cases, 2, 9, 3, 11, 3);       // short runs
    add(cases, 4, 50, 1, 8, 64);      // (N, T, H, D) to (N, H, T, D): runs of a head's width
    add(cases, 3, 6, 2, 5, 17);       // odd runs
    add(cases, 2, 7, 3, 5, 32);       // runs of a warp: one warp per run from here on
    add(cases, 3, 6, 2, 5, 33);       // a warp and one float
    add(cases, 1, 8, 1, 64, 200);     // long runs over several warp steps
    add(cases, 4, 1, 7, 1, 9);        // rows and cols of 1: a copy
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("transpose", transpose_cases);
}  // namespace kiln::parity

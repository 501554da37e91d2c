// Parity cases for the embedding family. Lookup: rows narrower and wider than a block, out-of-range indices (NaN rows
// on both). Backward, bit-exact: both backends add each row's dy values in fp32 in increasing position, the GPU after
// sorting positions by index. Sizes reach every sort kernel (n <= 2048: one shared-memory tile; 5000 and 100000: the
// global merge passes and the tile merges), runs longer than a block's staged positions (100 characters over 100000
// positions; one index for all 4096), a 50000-row vocabulary with most rows unused, several column tiles, and
// out-of-range indices. Positions: odd dims, offsets, large positions; double sin/cos on both sides, rounded once, so
// only last-bit library differences can show.
#include <cstdint>
#include <string>
#include <vector>

#include "parity/harness.h"

namespace kiln::parity {
namespace {

std::string shape_of(int64_t n, int64_t vocab, int64_t dim) {
    return "n=" + std::to_string(n) + " vocab=" + std::to_string(vocab) + " dim=" + std::to_string(dim);
}

// n indices in [lo, hi) from a small LCG.
std::vector<int32_t> host_indices(int64_t n, uint32_t seed, int32_t lo, int32_t hi) {
    std::vector<int32_t> v((size_t)n);
    uint64_t s = 0x2545F4914F6CDD1Dull ^ seed;
    for (auto& i : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        i = lo + (int32_t)((s >> 33) % (uint64_t)(hi - lo));
    }
    return v;
}

void add_lookup(std::vector<OpCase>& cases, int64_t n, int64_t vocab, int64_t dim, int32_t lo, int32_t hi) {
    const std::vector<int32_t> idx = host_indices(n, (uint32_t)(n + dim), lo, hi);
    const std::vector<float> weight = host_uniform((size_t)(vocab * dim), (uint32_t)vocab);
    cases.push_back({"embedding", shape_of(n, vocab, dim), 0.0,
                     {in_i32(idx), in_f32(weight), out_f32((size_t)(n * dim))},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_embedding_f32(ctx, (const int32_t*)p[0], (const float*)p[1], (float*)p[2], n,
                                                   vocab, dim);
                     }});
}

void add_backward(std::vector<OpCase>& cases, int64_t n, int64_t vocab, int64_t dim, int32_t lo, int32_t hi,
                  const std::string& note = "") {
    const std::vector<int32_t> idx = host_indices(n, (uint32_t)(3 * n + vocab), lo, hi);
    // Magnitudes over six decades: a different order of additions would change the bits.
    std::vector<float> dy = host_uniform((size_t)(n * dim), (uint32_t)(n + 1));
    for (size_t i = 0; i < dy.size(); i += 3) dy[i] *= 1e3f;
    for (size_t i = 1; i < dy.size(); i += 7) dy[i] *= 1e-3f;
    cases.push_back({"embedding_backward", shape_of(n, vocab, dim) + note, 0.0,
                     {in_i32(idx), in_f32(dy), out_f32((size_t)(vocab * dim))},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_embedding_backward_f32(ctx, (const int32_t*)p[0], (const float*)p[1],
                                                            (float*)p[2], n, vocab, dim);
                     }});
}

void add_positions(std::vector<OpCase>& cases, int64_t len, int64_t dim, int64_t start) {
    cases.push_back({"sinusoidal_positions",
                     "len=" + std::to_string(len) + " dim=" + std::to_string(dim) + " start=" + std::to_string(start),
                     1e-12, {out_f32((size_t)(len * dim))},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_sinusoidal_positions_f32(ctx, (float*)p[0], len, dim, start);
                     }});
}

std::vector<OpCase> embedding_cases() {
    std::vector<OpCase> cases;
    add_lookup(cases, 1, 1, 1, 0, 1);
    add_lookup(cases, 7, 5, 3, -2, 7);          // out of range on both sides
    add_lookup(cases, 300, 100, 64, 0, 100);
    add_lookup(cases, 1000, 50000, 33, 0, 50000);
    add_lookup(cases, 5, 3, 300, -1, 4);        // rows wider than a block

    add_backward(cases, 1, 1, 1, 0, 1);
    add_backward(cases, 7, 5, 3, -2, 7);
    add_backward(cases, 2048, 100, 64, 0, 100);            // exactly one sort tile
    add_backward(cases, 5000, 300, 40, -3, 303);           // global merge passes
    add_backward(cases, 100000, 100, 64, 0, 100);          // characters: runs of ~1000 positions
    add_backward(cases, 20000, 50000, 16, 0, 50000);       // a large vocabulary
    add_backward(cases, 3000, 7, 300, 0, 7);               // two column tiles
    add_backward(cases, 4096, 3, 8, 1, 2, " one index");   // a single run of 4096 positions
    add_backward(cases, 0, 4, 5, 0, 4, " no positions");   // every row 0

    add_positions(cases, 1, 1, 0);
    add_positions(cases, 7, 5, 0);
    add_positions(cases, 50, 64, 3);
    add_positions(cases, 20, 33, 100000);
    add_positions(cases, 128, 512, 0);
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("embedding", embedding_cases);
}  // namespace kiln::parity

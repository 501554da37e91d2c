// Random streams on the CPU: the Philox math from kernels/common/philox.h, split across the thread pool by
// Philox block so each block is computed once however the range is cut.
#include "cpu/random.h"

#include "common/philox.h"
#include "cpu/parallel.h"

namespace kiln::cpu {

namespace {

// Calls emit(block_values, first_element, count) for each Philox block touched by [0, n), in parallel.
template <typename BlockFn>
void for_each_block(size_t n, BlockFn&& fn) {
    const int64_t blocks = (int64_t)((n + 3) / 4);
    parallel_for(blocks, [&](int64_t begin, int64_t end) {
        for (int64_t g = begin; g < end; ++g) fn((uint64_t)g);
    }, 4096);
}

}  // namespace

void rand_uniform_f32(float* y, size_t n, uint64_t seed, uint64_t offset, float lo, float hi) {
    for_each_block(n, [&](uint64_t g) {
        const size_t first = g * 4, last = first + 4 < n ? first + 4 : n;
        for (size_t i = first; i < last; ++i) y[i] = philox_uniform_at(seed, offset, i, lo, hi);
    });
}

void rand_normal_f32(float* y, size_t n, uint64_t seed, uint64_t offset, float mean, float std) {
    for_each_block(n, [&](uint64_t g) {
        const size_t first = g * 4, last = first + 4 < n ? first + 4 : n;
        for (size_t i = first; i < last; ++i) y[i] = philox_normal_at(seed, offset, i, mean, std);
    });
}

}  // namespace kiln::cpu

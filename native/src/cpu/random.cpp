// Random streams and dropout on the CPU: the Philox math from kernels/common/philox.h (and the dropout mask of
// kernels/common/activations.h), split across the thread pool by Philox block so each block is computed once
// however the range is cut.
#include "random.h"

#include "common/activations.h"
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

void dropout_f32(const float* x, float* y, int64_t n, float p, uint64_t seed, uint64_t offset) {
    if (n <= 0) return;
    if (p == 0.0f) {  // every u >= 0 and the scale is 1: an exact copy, without generating the stream
        if (x != y) parallel_for(n, [&](int64_t lo, int64_t hi) {
            for (int64_t i = lo; i < hi; ++i) y[i] = x[i];
        }, 1 << 16);
        return;
    }
    const float scale = dropout_scale(p);
    for_each_block((size_t)n, [&](uint64_t g) {
        const Philox4 bits = philox_block(seed, offset + g);
        const int64_t first = (int64_t)g * 4, count = n - first < 4 ? n - first : 4;
        for (int64_t k = 0; k < count; ++k) y[first + k] = dropout_apply(bits.v[k], x[first + k], p, scale);
    });
}

}  // namespace kiln::cpu

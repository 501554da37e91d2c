// Random streams and dropout on the CPU: the Philox math from kernels/common/philox.h (and the dropout mask of
// kernels/common/activations.h), split across the thread pool by Philox block so each block is computed once
// however the range is cut.
#include "random.h"

#include "common/activations.h"
#include "common/philox.h"
#include "cpu/parallel.h"
#include "cpu/simd.h"

namespace kiln::cpu {

namespace {

// Runs fn(block) for each Philox block touched by [0, n), in parallel.
template <typename BlockFn>
void for_each_block(size_t n, BlockFn&& fn) {
    const int64_t blocks = (int64_t)((n + 3) / 4);
    parallel_for(blocks, [&](int64_t begin, int64_t end) {
        for (int64_t g = begin; g < end; ++g) fn((uint64_t)g);
    }, 4096);
}

enum class Stream { Uniform, Normal };

// Blocks [g0, g1) of a stream of n values (the last block may be partial) at y: uniform in [a, b), or normal with mean
// a and std b. The stream math's kiln_fma is one instruction where the compiler may use FMA and a libm call where it
// may not, as in this baseline-x86-64 file: about half of a normal draw's time. The clones (cpu/simd.h) give it the
// instruction; fma is correctly rounded either way, so the bits are the same. A template rather than a run-time kind:
// with both streams' math in one function GCC kept it out of line, uncloned, and normals took 15.6 ns instead of 5.8.
template <Stream kKind>
KILN_VECTOR_CLONES void stream_blocks(float* y, size_t n, uint64_t seed, uint64_t offset, float a, float b, int64_t g0,
                                      int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) {
        float v[4];
        if constexpr (kKind == Stream::Normal)
            philox_normal_block4(seed, offset, (uint64_t)g, a, b, v);
        else
            philox_uniform_block4(seed, offset, (uint64_t)g, a, b, v);
        const size_t first = (size_t)g * 4, count = n - first < 4 ? n - first : 4;
        for (size_t j = 0; j < count; ++j) y[first + j] = v[j];
    }
}

// All of a stream's blocks across the pool. A block costs about as much as an exp, so a few hundred make a chunk worth
// a thread (a GAN's noise, 64 x 100 values, is 1,600 blocks).
template <Stream kKind>
void fill_stream(float* y, size_t n, uint64_t seed, uint64_t offset, float a, float b) {
    parallel_for((int64_t)((n + 3) / 4), [&](int64_t g0, int64_t g1) {
        stream_blocks<kKind>(y, n, seed, offset, a, b, g0, g1);
    }, 512);
}

}  // namespace

void rand_uniform_f32(float* y, size_t n, uint64_t seed, uint64_t offset, float lo, float hi) {
    fill_stream<Stream::Uniform>(y, n, seed, offset, lo, hi);
}

void rand_normal_f32(float* y, size_t n, uint64_t seed, uint64_t offset, float mean, float std) {
    fill_stream<Stream::Normal>(y, n, seed, offset, mean, std);
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

// The embedding family on the CPU. The lookup copies rows in parallel. The backward gives each task a block of
// (vocab rows x columns) of dweight: it zeroes the block, then walks all of indices in increasing i and adds the
// matching rows of dy into it, so every element of dweight is one sequential fp32 sum in increasing i. Which task
// computes an element changes nothing in its bits, so the blocks may follow the thread count; walking the indices
// once per task costs n reads each, small beside the n x dim additions. Positional encodings: a frequency per column
// pair, then sin/cos per element, in parallel over positions.
#include "embedding.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/embedding_math.h"
#include "cpu/parallel.h"

namespace kiln::cpu {

namespace {

constexpr int64_t kGrainElems = 1 << 14;  // elements per parallel_for chunk of row-wise work
constexpr int64_t kColChunk = 1024;       // columns of one backward task: 4 KiB of each row it touches

int64_t row_grain(int64_t dim) { return std::max<int64_t>(1, kGrainElems / dim); }

}  // namespace

void embedding_f32(const int32_t* indices, const float* weight, float* y, int64_t n, int64_t vocab, int64_t dim) {
    parallel_for(n, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            const int32_t v = indices[i];
            float* dst = y + i * dim;
            if (embedding_index_ok(v, vocab)) {
                std::memcpy(dst, weight + (int64_t)v * dim, (size_t)dim * sizeof(float));
            } else {
                std::fill(dst, dst + dim, embedding_missing_value());
            }
        }
    }, row_grain(dim));
}

void embedding_backward_f32(const int32_t* indices, const float* dy, float* dweight, int64_t n, int64_t vocab,
                            int64_t dim) {
    const int64_t col_chunks = (dim + kColChunk - 1) / kColChunk;
    const int64_t vocab_chunks = std::min<int64_t>(vocab, std::max<int64_t>(1, num_threads() / col_chunks));
    parallel_for(vocab_chunks * col_chunks, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t vc = t / col_chunks, cc = t - vc * col_chunks;
            const int64_t per = vocab / vocab_chunks, extra = vocab % vocab_chunks;  // no vocab * vc overflow
            const int64_t v0 = vc * per + std::min(vc, extra), v1 = v0 + per + (vc < extra ? 1 : 0);
            const int64_t c0 = cc * kColChunk, width = std::min(kColChunk, dim - c0);
            for (int64_t v = v0; v < v1; ++v) std::fill(dweight + v * dim + c0, dweight + v * dim + c0 + width, 0.0f);
            for (int64_t i = 0; i < n; ++i) {
                const int32_t v = indices[i];
                if (v < v0 || v >= v1) continue;  // another block's row, or out of range (v1 <= vocab)
                float* row = dweight + (int64_t)v * dim + c0;
                const float* g = dy + i * dim + c0;
                for (int64_t c = 0; c < width; ++c) row[c] = kiln_fadd(row[c], g[c]);
            }
        }
    }, 1);
}

void sinusoidal_positions_f32(float* y, int64_t len, int64_t dim, int64_t start) {
    std::vector<double> freq((size_t)dim);
    for (int64_t c = 0; c < dim; ++c) freq[(size_t)c] = sinusoid_frequency(c, dim);
    parallel_for(len, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t)
            for (int64_t c = 0; c < dim; ++c) y[t * dim + c] = sinusoid_value(start + t, freq[(size_t)c], c);
    }, row_grain(dim));
}

}  // namespace kiln::cpu

// The sampling family on the CPU: one Philox block (four normals) per step of the loop, split across the thread pool
// by block so each block is computed once however the range is cut; the KL mean summed in double over blocks fixed by
// the size, so the loss does not depend on the thread count.
//
// The file is built for the x86-64 baseline, where kiln_fma (std::fma) is a libm call emulating the fused operation:
// the exp and Box-Muller here are made of fmas, so the loops are cloned (cpu/simd.h's KILN_VECTOR_CLONES) for AVX-512
// and for AVX2 with FMA, where it is one instruction with the same, exactly rounded, result.
#include <vector>

#include "common/entry_backends.h"
#include "common/sampling_math.h"
#include "common/softmax_math.h"
#include "cpu/parallel.h"
#include "cpu/reduce_rows.h"
#include "cpu/simd.h"

namespace kiln::cpu {

namespace {

constexpr int64_t kGrainBlocks = 1024;  // 4K elements per task: a few microseconds, well above the pool's overhead
constexpr int64_t kGrainElems = 1 << 14;

constexpr int64_t kChunkBlocks = 64;  // Philox blocks per pass: 256 normals, a few KiB on the stack

// The normals of Philox blocks [b0, b0 + count), count <= kChunkBlocks, into eps[4 * count], in two passes over
// arrays (the Philox rounds, then Box-Muller) so that each pass is a plain loop the compiler can vectorize: same
// operations per element, hence the same bits, as philox_normal4.
KILN_VECTOR_CLONES
void normals_chunk(uint64_t seed, uint64_t offset, int64_t b0, int64_t count, float* eps) {
    uint32_t w0[kChunkBlocks], w1[kChunkBlocks], w2[kChunkBlocks], w3[kChunkBlocks];
    for (int64_t i = 0; i < count; ++i) {
        const Philox4 p = philox_block(seed, offset + (uint64_t)(b0 + i));
        w0[i] = p.v[0], w1[i] = p.v[1], w2[i] = p.v[2], w3[i] = p.v[3];
    }
    for (int64_t i = 0; i < count; ++i) {
        float z[4];
        philox_box_muller(w0[i], w1[i], &z[0], &z[1]);
        philox_box_muller(w2[i], w3[i], &z[2], &z[3]);
        for (int j = 0; j < 4; ++j) eps[4 * i + j] = kiln_fma(z[j], 1.0f, 0.0f);  // as philox_normal4 rounds
    }
}

// Elements [4 b0, min(4 b1, n)) of the reparameterization, a chunk of blocks at a time: z = mu + sigma eps from
// (a = mu, logvar), or, for the backward, dlogvar = dz sigma eps / 2 from (a = dz, logvar). One plain loop per
// direction, with the element pointers offset to the chunk: GCC left a loop with the direction's branch inside, or
// with eps indexed from another base than out, unvectorized (about 20 cycles per element instead of 2).
KILN_VECTOR_CLONES
void reparameterize_blocks(bool backward, const float* a, const float* logvar, float* out, int64_t n, uint64_t seed,
                           uint64_t offset, int64_t b0, int64_t b1) {
    float eps[4 * kChunkBlocks];
    for (int64_t c = b0; c < b1; c += kChunkBlocks) {
        const int64_t count = b1 - c < kChunkBlocks ? b1 - c : kChunkBlocks;
        normals_chunk(seed, offset, c, count, eps);
        const int64_t first = 4 * c, len = (4 * (c + count) < n ? 4 * (c + count) : n) - first;
        const float *ac = a + first, *lc = logvar + first;
        float* oc = out + first;
        if (backward)
            for (int64_t i = 0; i < len; ++i) oc[i] = reparam_dlogvar(ac[i], lc[i], eps[i]);
        else
            for (int64_t i = 0; i < len; ++i) oc[i] = reparam_z(ac[i], lc[i], eps[i]);
    }
}

// Sum of the KL terms of [begin, end) in double, element i into accumulator (i - begin) % 4, added in a fixed order.
// The float terms of a chunk are computed first, in a loop of their own that vectorizes.
KILN_VECTOR_CLONES
double gaussian_kl_range(const float* mu, const float* logvar, int64_t begin, int64_t end) {
    constexpr int64_t kChunk = 256;
    float term[kChunk];
    double acc[4] = {0, 0, 0, 0};
    for (int64_t c = begin; c < end; c += kChunk) {
        const int64_t count = end - c < kChunk ? end - c : kChunk;
        for (int64_t i = 0; i < count; ++i) term[i] = gaussian_kl_term(mu[c + i], logvar[c + i]);
        // c - begin is a multiple of kChunk (and so of 4): element i goes to accumulator i % 4. Written out four at a
        // time, so the accumulators live in registers (one vector of four doubles) rather than in memory, where each
        // add waited for the store of the one before it.
        double a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
        int64_t i = 0;
        for (; i + 4 <= count; i += 4) {
            a0 += term[i];
            a1 += term[i + 1];
            a2 += term[i + 2];
            a3 += term[i + 3];
        }
        acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
        for (; i < count; ++i) acc[i & 3] += term[i];
    }
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

KILN_VECTOR_CLONES
void gaussian_kl_backward_range(const float* mu, const float* logvar, float scale, float* dmu, float* dlogvar,
                                int64_t begin, int64_t end) {
    if (dmu)
        for (int64_t i = begin; i < end; ++i) dmu[i] = gaussian_kl_dmu(mu[i], scale);
    if (dlogvar)
        for (int64_t i = begin; i < end; ++i) dlogvar[i] = gaussian_kl_dlogvar(logvar[i], scale);
}

}  // namespace

void reparameterize_f32(const float* mu, const float* logvar, float* z, int64_t n, uint64_t seed, uint64_t offset) {
    parallel_for((n + 3) / 4, [&](int64_t b0, int64_t b1) {
        reparameterize_blocks(false, mu, logvar, z, n, seed, offset, b0, b1);
    }, kGrainBlocks);
}

void reparameterize_backward_f32(const float* logvar, const float* dz, float* dmu, float* dlogvar, int64_t n,
                                 uint64_t seed, uint64_t offset) {
    if (dmu) {  // dz/dmu = 1: no stream needed
        parallel_for(n, [&](int64_t i0, int64_t i1) {
            for (int64_t i = i0; i < i1; ++i) dmu[i] = dz[i];
        }, kGrainElems);
    }
    if (!dlogvar) return;
    parallel_for((n + 3) / 4, [&](int64_t b0, int64_t b1) {
        reparameterize_blocks(true, dz, logvar, dlogvar, n, seed, offset, b0, b1);
    }, kGrainBlocks);
}

void gaussian_kl_f32(const float* mu, const float* logvar, float* loss, int64_t batch, int64_t dim) {
    const int64_t n = batch * dim, blocks = (n + kSumBlock - 1) / kSumBlock;
    std::vector<double> part((size_t)(blocks > 0 ? blocks : 0));
    parallel_for(blocks, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b)
            part[b] = gaussian_kl_range(mu, logvar, b * kSumBlock, b + 1 == blocks ? n : (b + 1) * kSumBlock);
    });
    double total = 0;
    for (double p : part) total += p;  // block order: the same bits for any thread count
    loss[0] = mean_of((float)total, batch);
}

void gaussian_kl_backward_f32(const float* mu, const float* logvar, const float* dloss, float* dmu, float* dlogvar,
                              int64_t batch, int64_t dim) {
    const float scale = loss_grad_scale(dloss[0], batch);
    parallel_for(batch * dim, [&](int64_t i0, int64_t i1) {
        gaussian_kl_backward_range(mu, logvar, scale, dmu, dlogvar, i0, i1);
    }, kGrainElems);
}

}  // namespace kiln::cpu

KILN_CPU_TWIN(reparameterize_f32);
KILN_CPU_TWIN(reparameterize_backward_f32);
KILN_CPU_TWIN(gaussian_kl_f32);
KILN_CPU_TWIN(gaussian_kl_backward_f32);

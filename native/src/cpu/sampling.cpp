// The sampling family on the CPU: one Philox block (four normals) per step of the loop, split across the thread pool
// by block so each block is computed once however the range is cut; the KL mean summed in double by blocked_sum, so
// the loss does not depend on the thread count.
#include "cpu/sampling.h"

#include "common/sampling_math.h"
#include "common/softmax_math.h"
#include "cpu/parallel.h"
#include "cpu/reduce.h"

namespace kiln::cpu {

namespace {

constexpr int64_t kGrainBlocks = 4096;  // 16K elements per task: the pool's overhead stays below 1%
constexpr int64_t kGrainElems = 1 << 14;

// Calls fn(first_element, count, eps) for every Philox block of [0, n), in parallel; eps holds the block's normals.
template <typename Fn>
void for_each_eps_block(int64_t n, uint64_t seed, uint64_t offset, Fn&& fn) {
    const int64_t blocks = (n + 3) / 4;
    parallel_for(blocks, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            float eps[4];
            philox_normal4(seed, offset, (uint64_t)b, eps);
            const int64_t first = 4 * b;
            fn(first, n - first < 4 ? n - first : 4, eps);
        }
    }, kGrainBlocks);
}

}  // namespace

void reparameterize_f32(const float* mu, const float* logvar, float* z, int64_t n, uint64_t seed, uint64_t offset) {
    for_each_eps_block(n, seed, offset, [&](int64_t first, int64_t count, const float* eps) {
        for (int64_t j = 0; j < count; ++j) z[first + j] = reparam_z(mu[first + j], logvar[first + j], eps[j]);
    });
}

void reparameterize_backward_f32(const float* logvar, const float* dz, float* dmu, float* dlogvar, int64_t n,
                                 uint64_t seed, uint64_t offset) {
    if (dmu) {  // dz/dmu = 1: no stream needed
        parallel_for(n, [&](int64_t i0, int64_t i1) {
            for (int64_t i = i0; i < i1; ++i) dmu[i] = dz[i];
        }, kGrainElems);
    }
    if (!dlogvar) return;
    for_each_eps_block(n, seed, offset, [&](int64_t first, int64_t count, const float* eps) {
        for (int64_t j = 0; j < count; ++j)
            dlogvar[first + j] = reparam_dlogvar(dz[first + j], logvar[first + j], eps[j]);
    });
}

void gaussian_kl_f32(const float* mu, const float* logvar, float* loss, int64_t batch, int64_t dim) {
    const double total = blocked_sum(batch * dim, [&](int64_t i) { return (double)gaussian_kl_term(mu[i], logvar[i]); });
    loss[0] = mean_of((float)total, batch);
}

void gaussian_kl_backward_f32(const float* mu, const float* logvar, const float* dloss, float* dmu, float* dlogvar,
                              int64_t batch, int64_t dim) {
    const float scale = loss_grad_scale(dloss[0], batch);
    parallel_for(batch * dim, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            if (dmu) dmu[i] = gaussian_kl_dmu(mu[i], scale);
            if (dlogvar) dlogvar[i] = gaussian_kl_dlogvar(logvar[i], scale);
        }
    }, kGrainElems);
}

}  // namespace kiln::cpu

// Batch norm on the CPU. A channel's m = n * hw elements are strided runs of hw floats, one per sample; statistics
// are summed in double over fixed blocks of kBlock elements as parallel (channel, block) tasks whose partials are
// added in block order, so results depend on the shape only, never on the thread count, and a few huge channels
// still use every core. Mean and variance are two-pass (sum of squared deviations from the double mean), which stays
// exact when |mean| >> std. Element-wise passes are parallel over (n, c) planes with unit-stride inner loops.
// The evaluation backward has no statistics to compute: dx is element-wise, dgamma/dbeta are channel sums as above.
#include "batchnorm.h"

#include <algorithm>
#include <vector>

#include "common/batchnorm_math.h"
#include "cpu/parallel.h"
#include "cpu/reduce_rows.h"

namespace kiln::cpu {

namespace {

constexpr int64_t kBlock = 1 << 14;       // channel elements per partial sum
constexpr int64_t kGrainWork = 1 << 14;   // elements per parallel_for chunk of the element-wise passes

struct Sum2 {
    double a = 0.0, b = 0.0;
    Sum2& operator+=(const Sum2& o) {
        a += o.a;
        b += o.b;
        return *this;
    }
};

// (sum dy, sum dy (x - mu)) over len values in two interleaved chains each: an order fixed by the block, so the same
// bits for every thread count, and two chains so the double adds are not one long dependency.
Sum2 dy_sums(const float* dy, const float* x, double mu, int64_t len) {
    double a0 = 0.0, a1 = 0.0, b0 = 0.0, b1 = 0.0;
    int64_t i = 0;
    for (; i + 2 <= len; i += 2) {
        a0 += (double)dy[i];
        a1 += (double)dy[i + 1];
        b0 += (double)dy[i] * ((double)x[i] - mu);
        b1 += (double)dy[i + 1] * ((double)x[i + 1] - mu);
    }
    if (i < len) {
        a0 += (double)dy[i];
        b0 += (double)dy[i] * ((double)x[i] - mu);
    }
    return Sum2{a0 + a1, b0 + b1};
}

// Calls run(offset, len) for elements [j0, j1) of channel ch in order; element j is sample j / hw, position j % hw,
// so the elements come as runs of at most hw contiguous floats starting at x + offset.
template <typename Run>
void channel_runs(int64_t c, int64_t hw, int64_t ch, int64_t j0, int64_t j1, const Run& run) {
    int64_t sample = j0 / hw, i = j0 % hw;
    for (int64_t j = j0; j < j1; ++sample, i = 0) {
        const int64_t len = std::min(hw - i, j1 - j);
        run((sample * c + ch) * hw + i, len);
        j += len;
    }
}

// out[ch] = sum over the channel of term(ch, offset, len) (each call sums one run), for every channel.
template <typename T, typename Term>
std::vector<T> channel_sums(int64_t c, int64_t hw, int64_t m, const Term& term) {
    const int64_t blocks = (m + kBlock - 1) / kBlock;
    std::vector<T> part((size_t)(c * blocks));
    parallel_for(c * blocks, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t ch = t / blocks, b = t - ch * blocks;
            T acc{};
            channel_runs(c, hw, ch, b * kBlock, std::min(m, (b + 1) * kBlock),
                         [&](int64_t off, int64_t len) { acc += term(ch, off, len); });
            part[(size_t)t] = acc;
        }
    }, 1);
    std::vector<T> out((size_t)c);
    for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t b = 0; b < blocks; ++b) out[(size_t)ch] += part[(size_t)(ch * blocks + b)];
    return out;
}

// Runs plane(ch, offset) for each (sample, channel) plane of hw floats at x + offset.
template <typename Plane>
void for_planes(int64_t n, int64_t c, int64_t hw, const Plane& plane) {
    parallel_for(n * c, [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p) plane(p % c, p * hw);
    }, std::max<int64_t>(1, kGrainWork / std::max<int64_t>(1, hw)));
}

}  // namespace

void batch_norm_train_f32(int64_t n, int64_t c, int64_t hw, const float* x, const float* gamma, const float* beta,
                          float* y, float* save_mean, float* save_invstd, float* running_mean, float* running_var,
                          float momentum, float eps) {
    const int64_t m = n * hw;
    if (c == 0 || m == 0) return;
    const std::vector<double> sum = channel_sums<double>(c, hw, m, [x](int64_t, int64_t off, int64_t len) {
        return row_sum(x + off, len);
    });
    std::vector<double> mean_d((size_t)c);
    for (int64_t ch = 0; ch < c; ++ch) mean_d[ch] = sum[ch] / (double)m;
    const std::vector<double> sq = channel_sums<double>(c, hw, m, [x, &mean_d](int64_t ch, int64_t off, int64_t len) {
        const float* xs = x + off;
        const double mu = mean_d[ch];
        return sum_range(0, len, [xs, mu](int64_t i) {
            const double d = (double)xs[i] - mu;
            return d * d;
        });
    });

    std::vector<float> mean((size_t)c), scale((size_t)c), shift((size_t)c);
    const float unbiased = bn_unbiased_factor(m);
    for (int64_t ch = 0; ch < c; ++ch) {
        mean[ch] = (float)mean_d[ch];
        const float var = (float)(sq[ch] / (double)m);
        const float invstd = bn_invstd(var, eps);
        scale[ch] = bn_scale(gamma, ch, invstd);
        shift[ch] = bn_shift(beta, ch);
        save_mean[ch] = mean[ch];
        save_invstd[ch] = invstd;
        if (running_mean) running_mean[ch] = bn_running_update(running_mean[ch], mean[ch], momentum);
        if (running_var) running_var[ch] = bn_running_update(running_var[ch], kiln_fmul(var, unbiased), momentum);
    }
    for_planes(n, c, hw, [&](int64_t ch, int64_t off) {
        const float mu = mean[ch], a = scale[ch], b = shift[ch];
        const float* xs = x + off;
        float* ys = y + off;
        for (int64_t i = 0; i < hw; ++i) ys[i] = bn_apply(xs[i], mu, a, b);
    });
}

void batch_norm_eval_f32(int64_t n, int64_t c, int64_t hw, const float* x, const float* gamma, const float* beta,
                         const float* running_mean, const float* running_var, float eps, float* y) {
    if (n == 0 || c == 0 || hw == 0) return;
    std::vector<float> scale((size_t)c);
    for (int64_t ch = 0; ch < c; ++ch) scale[ch] = bn_scale(gamma, ch, bn_invstd(running_var[ch], eps));
    for_planes(n, c, hw, [&](int64_t ch, int64_t off) {
        const float mu = running_mean[ch], a = scale[ch], b = bn_shift(beta, ch);
        const float* xs = x + off;
        float* ys = y + off;
        for (int64_t i = 0; i < hw; ++i) ys[i] = bn_apply(xs[i], mu, a, b);
    });
}

void batch_norm_backward_f32(int64_t n, int64_t c, int64_t hw, const float* x, const float* dy, const float* gamma,
                             const float* save_mean, const float* save_invstd, float* dx, float* dgamma, float* dbeta) {
    const int64_t m = n * hw;
    if (c == 0 || m == 0 || (!dx && !dgamma && !dbeta)) return;
    // a = sum dy, b = sum dy (x - mean); xhat's invstd is applied once per channel afterwards.
    const std::vector<Sum2> sums = channel_sums<Sum2>(c, hw, m, [&](int64_t ch, int64_t off, int64_t len) {
        const float* xs = x + off;
        const float* gs = dy + off;
        return dy_sums(gs, xs, (double)save_mean[ch], len);
    });

    std::vector<float> scale((size_t)c), mean_dy((size_t)c), mean_dy_xhat((size_t)c);
    for (int64_t ch = 0; ch < c; ++ch) {
        const double g = sums[ch].a;
        const double gx = sums[ch].b * (double)save_invstd[ch];
        if (dbeta) dbeta[ch] = (float)g;
        if (dgamma) dgamma[ch] = (float)gx;
        scale[ch] = bn_scale(gamma, ch, save_invstd[ch]);
        mean_dy[ch] = (float)(g / (double)m);
        mean_dy_xhat[ch] = (float)(gx / (double)m);
    }
    if (!dx) return;
    for_planes(n, c, hw, [&](int64_t ch, int64_t off) {
        const float mu = save_mean[ch], is = save_invstd[ch], a = scale[ch], g = mean_dy[ch], gx = mean_dy_xhat[ch];
        const float* xs = x + off;
        const float* gs = dy + off;
        float* d = dx + off;
        for (int64_t i = 0; i < hw; ++i) d[i] = bn_backward_dx(xs[i], gs[i], mu, is, a, g, gx);
    });
}

void batch_norm_backward_eval_f32(int64_t n, int64_t c, int64_t hw, const float* x, const float* dy,
                                  const float* gamma, const float* running_mean, const float* running_var, float eps,
                                  float* dx, float* dgamma, float* dbeta) {
    const int64_t m = n * hw;
    if (c == 0 || (!dx && !dgamma && !dbeta)) return;
    // invstd and scale exactly as the eval forward computed them, so this is the gradient of the function it computed.
    std::vector<float> invstd((size_t)c), scale((size_t)c);
    for (int64_t ch = 0; ch < c; ++ch) {
        invstd[ch] = bn_invstd(running_var[ch], eps);
        scale[ch] = bn_scale(gamma, ch, invstd[ch]);
    }
    if (!dgamma && !dbeta) {
        if (m == 0) return;
        for_planes(n, c, hw, [&](int64_t ch, int64_t off) {
            const float a = scale[ch];
            const float* gs = dy + off;
            float* d = dx + off;
            for (int64_t i = 0; i < hw; ++i) d[i] = bn_backward_eval_dx(gs[i], a);
        });
        return;
    }
    // a = sum dy, b = sum dy (x - running_mean) (only for dgamma: dbeta alone never reads x); invstd is applied to b
    // once per channel. dx needs no statistic, so it is written in the same task, after the block's sums have read dy
    // and x (dx may alias either; the block is still in cache), which is safe because the (channel, block) tasks own
    // disjoint elements.
    const bool want_b = dgamma != nullptr;
    const std::vector<Sum2> sums = channel_sums<Sum2>(c, hw, m, [&](int64_t ch, int64_t off, int64_t len) {
        const float* xs = x + off;
        const float* gs = dy + off;
        Sum2 block;
        if (want_b) {
            block = dy_sums(gs, xs, (double)running_mean[ch], len);
        } else {
            double a0 = 0.0, a1 = 0.0;
            int64_t i = 0;
            for (; i + 2 <= len; i += 2) {
                a0 += (double)gs[i];
                a1 += (double)gs[i + 1];
            }
            if (i < len) a0 += (double)gs[i];
            block = Sum2{a0 + a1, 0.0};
        }
        if (dx) {
            const float a = scale[ch];
            float* d = dx + off;
            for (int64_t i = 0; i < len; ++i) d[i] = bn_backward_eval_dx(gs[i], a);
        }
        return block;
    });
    for (int64_t ch = 0; ch < c; ++ch) {
        if (dbeta) dbeta[ch] = (float)sums[ch].a;
        if (dgamma) dgamma[ch] = (float)(sums[ch].b * (double)invstd[ch]);
    }
}

}  // namespace kiln::cpu

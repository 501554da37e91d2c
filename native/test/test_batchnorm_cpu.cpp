// Tests of the batch norm entries on a CPU context, through the C ABI: training forward (y, saved mean and invstd)
// and evaluation against naive double-precision references written here, the running-stat update (unbiased variance,
// momentum), the backward (dx, dgamma, dbeta) against central finite differences of the double reference, the
// evaluation backward against its closed form in double and against central finite differences of the eval forward,
// the one-value-per-channel case, a channel with |mean| >> std, an empty batch, optional pointers, and the validation
// messages.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "kiln/kiln.h"

using kiln::test::all_close;
using kiln::test::dot;
using kiln::test::grad_matches;
using kiln::test::message_has;
using kiln::test::uniform;
using kiln::test::widen;

// Finite-difference settings of this file's gradient checks.
const kiln::test::FiniteDifference kFd{2e-4, 1e-5, 400, 100};

namespace {

kiln_context* g_ctx = nullptr;
const float kNaN = std::numeric_limits<float>::quiet_NaN();

std::string shape3(int64_t a, int64_t b, int64_t c) {
    return "(" + std::to_string(a) + "," + std::to_string(b) + "," + std::to_string(c) + ")";
}

// ---- double reference ----------------------------------------------------------------------------------------------

struct RefStats {
    std::vector<double> mean, var;  // biased batch variance
};

RefStats ref_stats(const std::vector<double>& x, int64_t n, int64_t c, int64_t hw) {
    RefStats s{std::vector<double>(c, 0.0), std::vector<double>(c, 0.0)};
    const double m = (double)(n * hw);
    for (int64_t ch = 0; ch < c; ++ch) {
        double sum = 0;
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < hw; ++j) sum += x[(i * c + ch) * hw + j];
        s.mean[ch] = sum / m;
        double sq = 0;
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < hw; ++j) {
                const double d = x[(i * c + ch) * hw + j] - s.mean[ch];
                sq += d * d;
            }
        s.var[ch] = sq / m;
    }
    return s;
}

// y = gamma (x - mean) / sqrt(var + eps) + beta with the given per-channel mean/var; gamma/beta empty = 1/0.
std::vector<double> ref_normalize(const std::vector<double>& x, int64_t n, int64_t c, int64_t hw,
                                  const std::vector<double>& mean, const std::vector<double>& var,
                                  const std::vector<double>& gamma, const std::vector<double>& beta, double eps) {
    std::vector<double> y(x.size());
    for (int64_t i = 0; i < n; ++i)
        for (int64_t ch = 0; ch < c; ++ch)
            for (int64_t j = 0; j < hw; ++j) {
                const int64_t k = (i * c + ch) * hw + j;
                const double g = gamma.empty() ? 1.0 : gamma[ch], b = beta.empty() ? 0.0 : beta[ch];
                y[k] = g * (x[k] - mean[ch]) / std::sqrt(var[ch] + eps) + b;
            }
    return y;
}

std::vector<double> ref_train(const std::vector<double>& x, int64_t n, int64_t c, int64_t hw,
                              const std::vector<double>& gamma, const std::vector<double>& beta, double eps) {
    const RefStats s = ref_stats(x, n, c, hw);
    return ref_normalize(x, n, c, hw, s.mean, s.var, gamma, beta, eps);
}

// ---- training forward, running stats, backward --------------------------------------------------------------------

struct Shape {
    int64_t n, c, hw;
};

void train_forward_and_backward(Shape s, bool affine, bool running, float eps, float momentum) {
    const std::string name = shape3(s.n, s.c, s.hw) + (affine ? " affine" : "") + (running ? " running" : "");
    const size_t total = s.n * s.c * s.hw;
    // Channels with distinct offsets and scales, so a mix-up of channels shows.
    std::vector<float> x = uniform(total, total + s.c);
    for (int64_t i = 0; i < s.n; ++i)
        for (int64_t ch = 0; ch < s.c; ++ch)
            for (int64_t j = 0; j < s.hw; ++j) {
                float& v = x[(i * s.c + ch) * s.hw + j];
                v = v * (0.5f + 0.25f * (float)ch) + 0.3f * (float)ch;
            }
    std::vector<float> gamma, beta;
    if (affine) {
        gamma = uniform(s.c, 7, 0.5f, 1.5f);
        beta = uniform(s.c, 8);
    }
    std::vector<float> rmean = uniform(s.c, 9), rvar = uniform(s.c, 10, 0.5f, 2.0f);
    const std::vector<float> rmean0 = rmean, rvar0 = rvar;
    std::vector<float> y(total, kNaN), mean(s.c, kNaN), invstd(s.c, kNaN);
    EXPECT(kiln_batch_norm_train_f32(g_ctx, s.n, s.c, s.hw, x.data(), affine ? gamma.data() : nullptr,
                                     affine ? beta.data() : nullptr, y.data(), mean.data(), invstd.data(),
                                     running ? rmean.data() : nullptr, running ? rvar.data() : nullptr, momentum,
                                     eps) == KILN_OK);
    const std::vector<double> xd = widen(x), gd = widen(gamma), bd = widen(beta);
    const RefStats st = ref_stats(xd, s.n, s.c, s.hw);
    std::vector<double> want_invstd(s.c);
    for (int64_t ch = 0; ch < s.c; ++ch) want_invstd[ch] = 1.0 / std::sqrt(st.var[ch] + eps);
    EXPECT(all_close("bn_train y " + name, y, ref_train(xd, s.n, s.c, s.hw, gd, bd, eps), 2e-6, 2e-6));
    EXPECT(all_close("bn_train save_mean " + name, mean, st.mean, 1e-6, 1e-7));
    EXPECT(all_close("bn_train save_invstd " + name, invstd, want_invstd, 2e-6, 0.0));

    // Running stats: (1 - momentum) running + momentum batch, with the unbiased variance (m / (m - 1); the batch
    // variance, 0, when m == 1).
    const int64_t m = s.n * s.hw;
    std::vector<double> want_rm(s.c), want_rv(s.c);
    for (int64_t ch = 0; ch < s.c; ++ch) {
        const double unbiased = m > 1 ? st.var[ch] * (double)m / (double)(m - 1) : 0.0;
        want_rm[ch] = running ? (1.0 - momentum) * rmean0[ch] + momentum * st.mean[ch] : rmean0[ch];
        want_rv[ch] = running ? (1.0 - momentum) * rvar0[ch] + momentum * unbiased : rvar0[ch];
    }
    EXPECT(all_close("bn_train running_mean " + name, rmean, want_rm, 1e-6, 1e-7));
    EXPECT(all_close("bn_train running_var " + name, rvar, want_rv, 1e-6, 1e-7));

    // Backward of L = sum w * y against finite differences in x, gamma and beta.
    const std::vector<float> w = uniform(total, 11 + total);
    std::vector<float> dx(total, kNaN), dgamma(s.c, kNaN), dbeta(s.c, kNaN);
    EXPECT(kiln_batch_norm_backward_f32(g_ctx, s.n, s.c, s.hw, x.data(), w.data(), affine ? gamma.data() : nullptr,
                                        mean.data(), invstd.data(), dx.data(), dgamma.data(), dbeta.data()) == KILN_OK);
    auto Lx = [&](const std::vector<double>& v) { return dot(ref_train(v, s.n, s.c, s.hw, gd, bd, eps), w); };
    const std::vector<double> g1 = affine ? gd : std::vector<double>(s.c, 1.0);
    const std::vector<double> b1 = affine ? bd : std::vector<double>(s.c, 0.0);
    auto Lg = [&](const std::vector<double>& v) { return dot(ref_train(xd, s.n, s.c, s.hw, v, b1, eps), w); };
    auto Lb = [&](const std::vector<double>& v) { return dot(ref_train(xd, s.n, s.c, s.hw, g1, v, eps), w); };
    if (total <= 20000) {
        EXPECT(grad_matches("bn_backward dx " + name, Lx, xd, dx, kFd));
        EXPECT(grad_matches("bn_backward dgamma " + name, Lg, g1, dgamma, kFd));
        EXPECT(grad_matches("bn_backward dbeta " + name, Lb, b1, dbeta, kFd));
    } else {
        // Large shapes: the closed form in double instead of finite differences (each L costs a full pass).
        std::vector<double> want_dx(total), want_dg(s.c, 0.0), want_db(s.c, 0.0);
        for (int64_t ch = 0; ch < s.c; ++ch) {
            double g = 0, gx = 0;
            for (int64_t i = 0; i < s.n; ++i)
                for (int64_t j = 0; j < s.hw; ++j) {
                    const int64_t k = (i * s.c + ch) * s.hw + j;
                    g += w[k];
                    gx += w[k] * (xd[k] - st.mean[ch]) * want_invstd[ch];
                }
            want_db[ch] = g;
            want_dg[ch] = gx;
            for (int64_t i = 0; i < s.n; ++i)
                for (int64_t j = 0; j < s.hw; ++j) {
                    const int64_t k = (i * s.c + ch) * s.hw + j;
                    const double xhat = (xd[k] - st.mean[ch]) * want_invstd[ch];
                    want_dx[k] = g1[ch] * want_invstd[ch] * (w[k] - g / m - xhat * gx / m);
                }
        }
        EXPECT(all_close("bn_backward dx " + name, dx, want_dx, 1e-4, 1e-6));
        EXPECT(all_close("bn_backward dgamma " + name, dgamma, want_dg, 1e-5, 1e-4));
        EXPECT(all_close("bn_backward dbeta " + name, dbeta, want_db, 1e-5, 1e-4));
    }

    // Each gradient alone: the others may be NULL and what is given matches the full call.
    std::vector<float> dx2(total, kNaN), dgamma2(s.c, kNaN);
    EXPECT(kiln_batch_norm_backward_f32(g_ctx, s.n, s.c, s.hw, x.data(), w.data(), affine ? gamma.data() : nullptr,
                                        mean.data(), invstd.data(), dx2.data(), nullptr, nullptr) == KILN_OK);
    EXPECT(std::memcmp(dx.data(), dx2.data(), total * 4) == 0);
    EXPECT(kiln_batch_norm_backward_f32(g_ctx, s.n, s.c, s.hw, x.data(), w.data(), affine ? gamma.data() : nullptr,
                                        mean.data(), invstd.data(), nullptr, dgamma2.data(), nullptr) == KILN_OK);
    EXPECT(std::memcmp(dgamma.data(), dgamma2.data(), s.c * 4) == 0);
}

// Evaluation normalizes with the running statistics.
void eval_mode() {
    for (Shape s : {Shape{1, 1, 1}, Shape{4, 7, 169}, Shape{3, 5, 1}, Shape{2, 3, 2000}}) {
        for (bool affine : {false, true}) {
            const size_t total = s.n * s.c * s.hw;
            const std::vector<float> x = uniform(total, 21 + total, -3.0f, 3.0f);
            const std::vector<float> rm = uniform(s.c, 22), rv = uniform(s.c, 23, 0.1f, 4.0f);
            const std::vector<float> gamma = uniform(s.c, 24, 0.5f, 2.0f), beta = uniform(s.c, 25);
            std::vector<float> y(total, kNaN);
            EXPECT(kiln_batch_norm_eval_f32(g_ctx, s.n, s.c, s.hw, x.data(), affine ? gamma.data() : nullptr,
                                            affine ? beta.data() : nullptr, rm.data(), rv.data(), 1e-3f,
                                            y.data()) == KILN_OK);
            const std::vector<double> none;
            const std::vector<double> want = ref_normalize(widen(x), s.n, s.c, s.hw, widen(rm), widen(rv),
                                                           affine ? widen(gamma) : none, affine ? widen(beta) : none,
                                                           (double)1e-3f);
            EXPECT(all_close("bn_eval " + shape3(s.n, s.c, s.hw) + (affine ? " affine" : ""), y, want, 2e-6, 2e-6));
        }
    }
}

// ---- evaluation backward -------------------------------------------------------------------------------------------

// The closed form in double: y = gamma (x - rm) / sqrt(rv + eps) + beta is affine in x and gamma, linear in beta.
struct RefEvalGrads {
    std::vector<double> dx, dgamma, dbeta;
};

RefEvalGrads ref_eval_backward(const std::vector<double>& x, const std::vector<float>& dy, int64_t n, int64_t c,
                               int64_t hw, const std::vector<double>& gamma, const std::vector<double>& rm,
                               const std::vector<double>& rv, double eps) {
    RefEvalGrads r{std::vector<double>(x.size()), std::vector<double>(c, 0.0), std::vector<double>(c, 0.0)};
    for (int64_t ch = 0; ch < c; ++ch) {
        const double invstd = 1.0 / std::sqrt(rv[ch] + eps), g = gamma.empty() ? 1.0 : gamma[ch];
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < hw; ++j) {
                const int64_t k = (i * c + ch) * hw + j;
                r.dx[k] = dy[k] * g * invstd;
                r.dgamma[ch] += dy[k] * (x[k] - rm[ch]) * invstd;
                r.dbeta[ch] += dy[k];
            }
    }
    return r;
}

void eval_backward(Shape s, bool affine, float eps) {
    const std::string name = shape3(s.n, s.c, s.hw) + (affine ? " affine" : "");
    const size_t total = s.n * s.c * s.hw;
    const std::vector<float> x = uniform(total, 51 + total, -3.0f, 3.0f);
    const std::vector<float> rm = uniform(s.c, 52), rv = uniform(s.c, 53, 0.1f, 4.0f);
    const std::vector<float> gamma = uniform(s.c, 54, 0.5f, 2.0f), beta = uniform(s.c, 55);
    const float* gp = affine ? gamma.data() : nullptr;
    const std::vector<float> w = uniform(total, 56 + total);  // dy of L = sum w * y
    std::vector<float> dx(total, kNaN), dgamma(s.c, kNaN), dbeta(s.c, kNaN);
    EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, s.n, s.c, s.hw, x.data(), w.data(), gp, rm.data(), rv.data(), eps,
                                             dx.data(), dgamma.data(), dbeta.data()) == KILN_OK);

    // Closed form: the only rounding is fp32 invstd and scale (a few ulps) and the final rounding of the sums.
    const std::vector<double> xd = widen(x), rmd = widen(rm), rvd = widen(rv), none;
    const RefEvalGrads want = ref_eval_backward(xd, w, s.n, s.c, s.hw, affine ? widen(gamma) : none, rmd, rvd, eps);
    EXPECT(all_close("bn_backward_eval dx " + name, dx, want.dx, 2e-6, 1e-7));
    EXPECT(all_close("bn_backward_eval dgamma " + name, dgamma, want.dgamma, 2e-6, 1e-6));
    EXPECT(all_close("bn_backward_eval dbeta " + name, dbeta, want.dbeta, 1e-7, 1e-6));

    // Central differences of the eval forward's double reference, in x, gamma and beta (running stats fixed).
    if (total <= 20000) {
        const std::vector<double> g1 = affine ? widen(gamma) : std::vector<double>(s.c, 1.0);
        const std::vector<double> b1 = affine ? widen(beta) : std::vector<double>(s.c, 0.0);
        auto L = [&](const std::vector<double>& xv, const std::vector<double>& gv, const std::vector<double>& bv) {
            return dot(ref_normalize(xv, s.n, s.c, s.hw, rmd, rvd, gv, bv, eps), w);
        };
        EXPECT(grad_matches("bn_backward_eval dx fd " + name,
                            [&](const std::vector<double>& v) { return L(v, g1, b1); }, xd, dx, kFd));
        EXPECT(grad_matches("bn_backward_eval dgamma fd " + name,
                            [&](const std::vector<double>& v) { return L(xd, v, b1); }, g1, dgamma, kFd));
        EXPECT(grad_matches("bn_backward_eval dbeta fd " + name,
                            [&](const std::vector<double>& v) { return L(xd, g1, v); }, b1, dbeta, kFd));
    }

    // Every non-empty subset of {dx, dgamma, dbeta}: the others NULL, and what is given has the full call's bits (dx
    // alone takes the element-wise path, so this also ties it to the fused one).
    for (int mask = 1; mask < 8; ++mask) {
        std::vector<float> dx2(total, kNaN), dgamma2(s.c, kNaN), dbeta2(s.c, kNaN);
        EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, s.n, s.c, s.hw, x.data(), w.data(), gp, rm.data(), rv.data(),
                                                 eps, (mask & 1) ? dx2.data() : nullptr,
                                                 (mask & 2) ? dgamma2.data() : nullptr,
                                                 (mask & 4) ? dbeta2.data() : nullptr) == KILN_OK);
        if (mask & 1) EXPECT(std::memcmp(dx.data(), dx2.data(), total * 4) == 0);
        if (mask & 2) EXPECT(std::memcmp(dgamma.data(), dgamma2.data(), s.c * 4) == 0);
        if (mask & 4) EXPECT(std::memcmp(dbeta.data(), dbeta2.data(), s.c * 4) == 0);
    }

    // dx may alias dy or x: the same bits as separate buffers (dx was written before the sums read dy and x).
    for (int alias_x = 0; alias_x < 2; ++alias_x) {
        std::vector<float> buf = alias_x ? x : w, dgamma3(s.c, kNaN), dbeta3(s.c, kNaN);
        EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, s.n, s.c, s.hw, alias_x ? buf.data() : x.data(),
                                                 alias_x ? w.data() : buf.data(), gp, rm.data(), rv.data(), eps,
                                                 buf.data(), dgamma3.data(), dbeta3.data()) == KILN_OK);
        EXPECT(std::memcmp(dx.data(), buf.data(), total * 4) == 0);
        EXPECT(std::memcmp(dgamma.data(), dgamma3.data(), s.c * 4) == 0);
        EXPECT(std::memcmp(dbeta.data(), dbeta3.data(), s.c * 4) == 0);
    }
}

// The eval backward's sums are split into blocks for long channels; a second call gives the same bits.
void eval_backward_is_deterministic() {
    const int64_t n = 3, c = 2, hw = 40000;
    const size_t total = n * c * hw;
    const std::vector<float> x = uniform(total, 61), dy = uniform(total, 62);
    const std::vector<float> rm = uniform(c, 63), rv = uniform(c, 64, 0.5f, 2.0f), gamma = uniform(c, 65, 0.5f, 1.5f);
    std::vector<float> dx1(total), dx2(total), dg1(c), dg2(c), db1(c), db2(c);
    EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, n, c, hw, x.data(), dy.data(), gamma.data(), rm.data(), rv.data(),
                                             1e-5f, dx1.data(), dg1.data(), db1.data()) == KILN_OK);
    EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, n, c, hw, x.data(), dy.data(), gamma.data(), rm.data(), rv.data(),
                                             1e-5f, dx2.data(), dg2.data(), db2.data()) == KILN_OK);
    EXPECT(std::memcmp(dx1.data(), dx2.data(), total * 4) == 0);
    EXPECT(std::memcmp(dg1.data(), dg2.data(), c * 4) == 0 && std::memcmp(db1.data(), db2.data(), c * 4) == 0);
}

// An empty batch (n == 0) is valid in evaluation: the parameter gradients are sums over nothing, so they are assigned
// 0, and dx has no elements (x, dy and dx may then be NULL).
void eval_backward_empty_batch() {
    const std::vector<float> rm = {0.5f, -1.0f, 2.0f}, rv = {1.0f, 2.0f, 3.0f}, gamma = {1.0f, 2.0f, 3.0f};
    std::vector<float> dgamma(3, kNaN), dbeta(3, kNaN);
    EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, 0, 3, 5, nullptr, nullptr, gamma.data(), rm.data(), rv.data(),
                                             1e-5f, nullptr, dgamma.data(), dbeta.data()) == KILN_OK);
    for (int ch = 0; ch < 3; ++ch) EXPECT(dgamma[ch] == 0.0f && dbeta[ch] == 0.0f);
    std::vector<float> dbeta2(3, kNaN);
    EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, 2, 3, 0, nullptr, nullptr, nullptr, rm.data(), rv.data(), 1e-5f,
                                             nullptr, nullptr, dbeta2.data()) == KILN_OK);
    for (int ch = 0; ch < 3; ++ch) EXPECT(dbeta2[ch] == 0.0f);
    EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, 0, 3, 5, nullptr, nullptr, nullptr, rm.data(), rv.data(), 1e-5f,
                                             nullptr, nullptr, nullptr) == KILN_OK);
}

// One value per channel (n * hw == 1): mean = x, variance 0, so y = beta, invstd = 1/sqrt(eps), the running variance
// moves toward 0, and dx = 0 (y does not depend on x).
void single_value_per_channel() {
    const float x[2] = {3.0f, -2.0f}, gamma[2] = {2.0f, 0.5f}, beta[2] = {0.25f, -1.0f};
    float y[2], mean[2], invstd[2], rm[2] = {1.0f, 1.0f}, rv[2] = {1.0f, 2.0f};
    EXPECT(kiln_batch_norm_train_f32(g_ctx, 1, 2, 1, x, gamma, beta, y, mean, invstd, rm, rv, 0.5f, 1e-4f) == KILN_OK);
    EXPECT(y[0] == 0.25f && y[1] == -1.0f);
    EXPECT(mean[0] == 3.0f && mean[1] == -2.0f);
    EXPECT(std::fabs(invstd[0] - 100.0f) < 1e-3f);
    EXPECT(rm[0] == 2.0f && rm[1] == -0.5f);
    EXPECT(rv[0] == 0.5f && rv[1] == 1.0f);
    const float dy[2] = {1.0f, -3.0f};
    float dx[2] = {kNaN, kNaN}, dg[2] = {kNaN, kNaN}, db[2] = {kNaN, kNaN};
    EXPECT(kiln_batch_norm_backward_f32(g_ctx, 1, 2, 1, x, dy, gamma, mean, invstd, dx, dg, db) == KILN_OK);
    EXPECT(dx[0] == 0.0f && dx[1] == 0.0f && dg[0] == 0.0f && dg[1] == 0.0f && db[0] == 1.0f && db[1] == -3.0f);
}

// A channel at 1000 +- 1e-2: a one-pass E[x^2] - E[x]^2 in fp32 would lose every digit of the variance.
void large_mean_is_stable() {
    const int64_t n = 8, c = 2, hw = 500;
    std::vector<float> x = uniform(n * c * hw, 31, -0.01f, 0.01f);
    for (auto& v : x) v += 1000.0f;
    std::vector<float> y(x.size()), mean(c), invstd(c);
    EXPECT(kiln_batch_norm_train_f32(g_ctx, n, c, hw, x.data(), nullptr, nullptr, y.data(), mean.data(), invstd.data(),
                                     nullptr, nullptr, 0.1f, 1e-8f) == KILN_OK);
    const RefStats st = ref_stats(widen(x), n, c, hw);
    std::vector<double> want_invstd(c);
    for (int64_t ch = 0; ch < c; ++ch) want_invstd[ch] = 1.0 / std::sqrt(st.var[ch] + (double)1e-8f);
    EXPECT(all_close("bn large mean invstd", invstd, want_invstd, 1e-5, 0.0));
    // y carries the fp32 rounding of the stored mean (~3e-5 here) times invstd (~170): ~5e-3 absolute, by design.
    EXPECT(all_close("bn large mean y", y, ref_train(widen(x), n, c, hw, {}, {}, (double)1e-8f), 0.0, 1e-2));
}

// The result does not depend on how the work was split: a channel longer than one summation block (16K) agrees with
// the reference to the last few ulps, and two calls give the same bits.
void long_channels_are_deterministic() {
    const int64_t n = 3, c = 2, hw = 40000;
    const std::vector<float> x = uniform(n * c * hw, 41);
    std::vector<float> y1(x.size()), y2(x.size()), mean(c), invstd(c);
    EXPECT(kiln_batch_norm_train_f32(g_ctx, n, c, hw, x.data(), nullptr, nullptr, y1.data(), mean.data(), invstd.data(),
                                     nullptr, nullptr, 0.1f, 1e-5f) == KILN_OK);
    EXPECT(kiln_batch_norm_train_f32(g_ctx, n, c, hw, x.data(), nullptr, nullptr, y2.data(), mean.data(), invstd.data(),
                                     nullptr, nullptr, 0.1f, 1e-5f) == KILN_OK);
    EXPECT(std::memcmp(y1.data(), y2.data(), x.size() * 4) == 0);
    const RefStats st = ref_stats(widen(x), n, c, hw);
    EXPECT(all_close("bn long mean", mean, st.mean, 0.0, 1e-9));
}

// ---- validation ----------------------------------------------------------------------------------------------------

void validation_errors() {
    std::vector<float> x(12, 1.0f), y(12), mean(3), invstd(3), rm(3), rv(3, 1.0f), dx(12);
    EXPECT(kiln_batch_norm_train_f32(g_ctx, 2, 3, 2, x.data(), nullptr, nullptr, y.data(), mean.data(), invstd.data(),
                                     nullptr, nullptr, 0.1f, 0.0f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_batch_norm_train_f32") && message_has("'eps'") && message_has("got 0"));
    EXPECT(kiln_batch_norm_eval_f32(g_ctx, 2, 3, 2, x.data(), nullptr, nullptr, rm.data(), rv.data(), -1e-5f,
                                    y.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_batch_norm_eval_f32") && message_has("'eps'"));
    EXPECT(kiln_batch_norm_eval_f32(g_ctx, 2, 3, 2, x.data(), nullptr, nullptr, rm.data(), rv.data(), kNaN,
                                    y.data()) == KILN_ERR_INVALID_ARGUMENT);
    for (float bad : {-0.1f, 1.5f, kNaN}) {
        EXPECT(kiln_batch_norm_train_f32(g_ctx, 2, 3, 2, x.data(), nullptr, nullptr, y.data(), mean.data(),
                                         invstd.data(), rm.data(), rv.data(), bad, 1e-5f) == KILN_ERR_INVALID_ARGUMENT);
        EXPECT(message_has("'momentum' must be in [0, 1]"));
    }
    // Batch statistics of an empty channel do not exist.
    EXPECT(kiln_batch_norm_train_f32(g_ctx, 0, 3, 2, x.data(), nullptr, nullptr, y.data(), mean.data(), invstd.data(),
                                     nullptr, nullptr, 0.1f, 1e-5f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("n * hw >= 1") && message_has("n=0 hw=2"));
    EXPECT(kiln_batch_norm_backward_f32(g_ctx, 2, 3, 0, x.data(), x.data(), nullptr, mean.data(), invstd.data(),
                                        dx.data(), nullptr, nullptr) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_batch_norm_backward_f32") && message_has("n * hw >= 1"));
    // ... while evaluating an empty batch is simply nothing to do.
    EXPECT(kiln_batch_norm_eval_f32(g_ctx, 0, 3, 2, nullptr, nullptr, nullptr, rm.data(), rv.data(), 1e-5f,
                                    nullptr) == KILN_OK);
    EXPECT(kiln_batch_norm_train_f32(g_ctx, 2, -3, 2, x.data(), nullptr, nullptr, y.data(), mean.data(), invstd.data(),
                                     nullptr, nullptr, 0.1f, 1e-5f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("c=-3"));
    EXPECT(kiln_batch_norm_train_f32(g_ctx, INT64_MAX / 2, 3, 2, x.data(), nullptr, nullptr, y.data(), mean.data(),
                                     invstd.data(), nullptr, nullptr, 0.1f, 1e-5f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("INT64_MAX"));
    EXPECT(kiln_batch_norm_train_f32(g_ctx, 2, 3, 2, x.data(), nullptr, nullptr, y.data(), nullptr, invstd.data(),
                                     nullptr, nullptr, 0.1f, 1e-5f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'save_mean' is null"));
    EXPECT(kiln_batch_norm_eval_f32(g_ctx, 2, 3, 2, x.data(), nullptr, nullptr, rm.data(), nullptr, 1e-5f,
                                    y.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'running_var' is null"));
    EXPECT(kiln_batch_norm_backward_f32(g_ctx, 2, 3, 2, x.data(), nullptr, nullptr, mean.data(), invstd.data(),
                                        dx.data(), nullptr, nullptr) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'dy' is null"));
    // No gradient wanted: nothing to do, even with nothing else given.
    EXPECT(kiln_batch_norm_backward_f32(g_ctx, 2, 3, 2, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                        nullptr) == KILN_OK);
    EXPECT(kiln_batch_norm_eval_f32(nullptr, 2, 3, 2, x.data(), nullptr, nullptr, rm.data(), rv.data(), 1e-5f,
                                    y.data()) == KILN_ERR_INVALID_ARGUMENT);

    // Evaluation backward: the same argument rules as the eval forward, each message naming the op and the argument.
    const char* bwd_eval = "kiln_batch_norm_backward_eval_f32";
    std::vector<float> dg(3), db(3);
    for (float bad : {0.0f, -1e-5f, kNaN, std::numeric_limits<float>::infinity()}) {
        EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, 2, 3, 2, x.data(), x.data(), nullptr, rm.data(), rv.data(), bad,
                                                 dx.data(), dg.data(), db.data()) == KILN_ERR_INVALID_ARGUMENT);
        EXPECT(message_has(bwd_eval) && message_has("'eps'"));
    }
    EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, 2, 3, 2, x.data(), x.data(), nullptr, nullptr, rv.data(), 1e-5f,
                                             dx.data(), dg.data(), db.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has(bwd_eval) && message_has("'running_mean' is null"));
    EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, 2, 3, 2, x.data(), x.data(), nullptr, rm.data(), nullptr, 1e-5f,
                                             dx.data(), nullptr, nullptr) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has(bwd_eval) && message_has("'running_var' is null"));
    EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, 2, 3, 2, x.data(), nullptr, nullptr, rm.data(), rv.data(), 1e-5f,
                                             nullptr, nullptr, db.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has(bwd_eval) && message_has("'dy' is null"));
    EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, 2, 3, 2, nullptr, x.data(), nullptr, rm.data(), rv.data(), 1e-5f,
                                             nullptr, dg.data(), nullptr) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has(bwd_eval) && message_has("'x' is null"));
    EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, 2, -3, 2, x.data(), x.data(), nullptr, rm.data(), rv.data(), 1e-5f,
                                             dx.data(), nullptr, nullptr) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has(bwd_eval) && message_has("c=-3"));
    EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, INT64_MAX / 2, 3, 2, x.data(), x.data(), nullptr, rm.data(),
                                             rv.data(), 1e-5f, dx.data(), nullptr, nullptr) ==
           KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has(bwd_eval) && message_has("INT64_MAX"));
    EXPECT(kiln_batch_norm_backward_eval_f32(nullptr, 2, 3, 2, x.data(), x.data(), nullptr, rm.data(), rv.data(), 1e-5f,
                                             dx.data(), nullptr, nullptr) == KILN_ERR_INVALID_ARGUMENT);
    // No gradient wanted: nothing to do, even with no data given (eps is still checked, as a plain argument).
    EXPECT(kiln_batch_norm_backward_eval_f32(g_ctx, 2, 3, 2, nullptr, nullptr, nullptr, nullptr, nullptr, 1e-5f,
                                             nullptr, nullptr, nullptr) == KILN_OK);
}

}  // namespace

int main() {
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &g_ctx) != KILN_OK) {
        std::printf("cannot create the CPU context: %s\n", kiln_last_error());
        return 1;
    }
    for (bool affine : {false, true}) {
        for (bool running : {false, true}) {
            train_forward_and_backward({1, 1, 1}, affine, running, 1e-5f, 0.1f);
            train_forward_and_backward({4, 7, 13 * 13}, affine, running, 1e-5f, 0.1f);
            train_forward_and_backward({2, 3, 5}, affine, running, 1e-3f, 0.9f);
        }
    }
    train_forward_and_backward({16, 3, 1}, true, true, 1e-5f, 1.0f);   // hw == 1 (after a linear layer), momentum 1
    train_forward_and_backward({3, 2, 7}, true, true, 1e-5f, 0.0f);    // momentum 0: running stats unchanged
    train_forward_and_backward({64, 32, 26 * 26}, true, true, 1e-5f, 0.1f);
    eval_mode();
    for (bool affine : {false, true}) {
        eval_backward({1, 1, 1}, affine, 1e-5f);
        eval_backward({4, 7, 13 * 13}, affine, 1e-5f);
        eval_backward({2, 3, 5}, affine, 1e-3f);
        eval_backward({16, 3, 1}, affine, 1e-5f);  // hw == 1 (after a linear layer)
    }
    eval_backward({64, 32, 26 * 26}, true, 1e-5f);
    eval_backward({3, 2, 40000}, false, 1e-5f);  // channels longer than one summation block
    eval_backward_is_deterministic();
    eval_backward_empty_batch();
    single_value_per_channel();
    large_mean_is_stable();
    long_channels_are_deterministic();
    validation_errors();
    kiln_context_destroy(g_ctx);
    return kiln::test::finish("test_batchnorm_cpu");
}

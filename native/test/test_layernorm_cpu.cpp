// Tests of the layer norm entries on a CPU context, through the C ABI: the forward (y, saved mean and rstd) against a
// double-precision reference written here, rows whose |mean| is far above their spread and rows with an outlier (the
// variance must stay accurate), constant rows, rows holding +inf or NaN (NaN rstd and y, the other rows unharmed), the
// backward (dx, dgamma, dbeta) against central finite differences of the double reference and dgamma/dbeta against
// direct double sums (with enough rows for several row blocks), each gradient alone against all three, aliasing,
// optional pointers, empty batches and the validation messages.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "kiln/kiln.h"

using kiln::test::all_close;
using kiln::test::grad_matches;
using kiln::test::message_has;
using kiln::test::uniform;
using kiln::test::widen;

namespace {

kiln_context* g_ctx = nullptr;
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const kiln::test::FiniteDifference kFd{2e-4, 1e-5, 600, 150};

std::string shape2(int64_t rows, int64_t cols) {
    return "(" + std::to_string(rows) + "," + std::to_string(cols) + ")";
}

// ---- double reference ----------------------------------------------------------------------------------------------

struct RowStats {
    std::vector<double> mean, var;  // biased variance
};

RowStats ref_stats(const std::vector<double>& x, int64_t rows, int64_t cols) {
    RowStats s{std::vector<double>(rows), std::vector<double>(rows)};
    for (int64_t r = 0; r < rows; ++r) {
        double sum = 0;
        for (int64_t c = 0; c < cols; ++c) sum += x[r * cols + c];
        s.mean[r] = sum / cols;
        double sq = 0;
        for (int64_t c = 0; c < cols; ++c) sq += (x[r * cols + c] - s.mean[r]) * (x[r * cols + c] - s.mean[r]);
        s.var[r] = sq / cols;
    }
    return s;
}

// y = (x - mean) / sqrt(var + eps) * gamma + beta per row; gamma/beta empty = 1/0.
std::vector<double> ref_layer_norm(const std::vector<double>& x, const std::vector<double>& gamma,
                                   const std::vector<double>& beta, int64_t rows, int64_t cols, double eps) {
    const RowStats s = ref_stats(x, rows, cols);
    std::vector<double> y(x.size());
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
            const double g = gamma.empty() ? 1.0 : gamma[c], b = beta.empty() ? 0.0 : beta[c];
            y[r * cols + c] = (x[r * cols + c] - s.mean[r]) / std::sqrt(s.var[r] + eps) * g + b;
        }
    return y;
}

// Rows with distinct offsets and spreads, so a mix-up of rows shows.
std::vector<float> test_input(int64_t rows, int64_t cols, uint64_t seed) {
    std::vector<float> x = uniform(rows * cols, seed);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
            float& v = x[r * cols + c];
            v = v * (0.5f + 0.125f * (float)(r % 7)) + 0.25f * (float)(r % 5) - 0.5f;
        }
    return x;
}

// ---- forward -------------------------------------------------------------------------------------------------------

void forward_matches_reference(int64_t rows, int64_t cols, bool with_gamma, bool with_beta) {
    const std::string name = shape2(rows, cols) + (with_gamma ? " gamma" : "") + (with_beta ? " beta" : "");
    const float eps = 1e-5f;
    const std::vector<float> x = test_input(rows, cols, rows * 1000 + cols);
    const std::vector<float> gamma = with_gamma ? uniform(cols, 3, 0.5f, 1.5f) : std::vector<float>();
    const std::vector<float> beta = with_beta ? uniform(cols, 4) : std::vector<float>();
    std::vector<float> y(rows * cols, kNaN), mean(rows, kNaN), rstd(rows, kNaN);
    EXPECT(kiln_layer_norm_f32(g_ctx, x.data(), with_gamma ? gamma.data() : nullptr, with_beta ? beta.data() : nullptr,
                               y.data(), mean.data(), rstd.data(), rows, cols, eps) == KILN_OK);
    const std::vector<double> xd = widen(x);
    const RowStats s = ref_stats(xd, rows, cols);
    std::vector<double> want_rstd(rows);
    for (int64_t r = 0; r < rows; ++r) want_rstd[r] = 1.0 / std::sqrt(s.var[r] + eps);
    EXPECT(all_close("ln y " + name, y, ref_layer_norm(xd, widen(gamma), widen(beta), rows, cols, eps), 2e-6, 2e-6));
    EXPECT(all_close("ln mean " + name, mean, s.mean, 1e-6, 1e-7));
    EXPECT(all_close("ln rstd " + name, rstd, want_rstd, 2e-6, 0.0));

    // Without mean/rstd (inference), and in place (y aliases x): the same bits.
    std::vector<float> y2(rows * cols, kNaN);
    EXPECT(kiln_layer_norm_f32(g_ctx, x.data(), with_gamma ? gamma.data() : nullptr, with_beta ? beta.data() : nullptr,
                               y2.data(), nullptr, nullptr, rows, cols, eps) == KILN_OK);
    EXPECT(std::memcmp(y2.data(), y.data(), y.size() * sizeof(float)) == 0);
    std::vector<float> inplace = x;
    EXPECT(kiln_layer_norm_f32(g_ctx, inplace.data(), with_gamma ? gamma.data() : nullptr,
                               with_beta ? beta.data() : nullptr, inplace.data(), nullptr, nullptr, rows, cols,
                               eps) == KILN_OK);
    EXPECT(std::memcmp(inplace.data(), y.data(), y.size() * sizeof(float)) == 0);
}

// The variance of a row must stay accurate when |mean| >> std (a one-pass E[x^2] - E[x]^2 in fp32 would lose it all)
// and when one element sits far from the others. y is checked against the reference evaluated at the saved float
// mean, so what is measured is the variance: a float mean of 1e4 is itself only good to half an ulp of 1e4.
void statistics_are_stable() {
    const int64_t rows = 4, cols = 1000;
    std::vector<float> x = uniform(rows * cols, 41);
    for (int64_t c = 0; c < cols; ++c) {
        x[0 * cols + c] = 1e4f + x[0 * cols + c];           // |mean| / std ~ 2e4
        x[1 * cols + c] = -3e5f + 16.0f * x[1 * cols + c];  // large negative offset
        x[2 * cols + c] = 1e-3f * x[2 * cols + c];          // tiny spread, outlier below
        x[3 * cols + c] = 1e-3f * x[3 * cols + c] + 7.0f;   // offset and tiny spread
    }
    x[2 * cols + 0] = 50.0f;  // the shift of the one-pass sums is x[0]: make it the outlier
    const float eps = 1e-12f;
    std::vector<float> y(rows * cols), mean(rows), rstd(rows);
    EXPECT(kiln_layer_norm_f32(g_ctx, x.data(), nullptr, nullptr, y.data(), mean.data(), rstd.data(), rows, cols, eps) ==
           KILN_OK);
    const std::vector<double> xd = widen(x);
    const RowStats s = ref_stats(xd, rows, cols);
    std::vector<double> want_rstd(rows), want_y(rows * cols);
    for (int64_t r = 0; r < rows; ++r) {
        want_rstd[r] = 1.0 / std::sqrt(s.var[r] + eps);
        for (int64_t c = 0; c < cols; ++c) want_y[r * cols + c] = (xd[r * cols + c] - mean[r]) * want_rstd[r];
    }
    EXPECT(all_close("stable rstd", rstd, want_rstd, 2e-6, 0.0));
    EXPECT(all_close("stable mean", mean, s.mean, 1e-7, 0.0));
    EXPECT(all_close("stable y", y, want_y, 4e-6, 4e-6));
}

// A constant row has variance 0: rstd = 1/sqrt(eps) and y = beta exactly; one column is such a row too.
void constant_rows() {
    const int64_t cols = 37;
    const std::vector<float> x(2 * cols, 5.25f), beta = uniform(cols, 5), gamma = uniform(cols, 6);
    std::vector<float> y(2 * cols), mean(2), rstd(2);
    EXPECT(kiln_layer_norm_f32(g_ctx, x.data(), gamma.data(), beta.data(), y.data(), mean.data(), rstd.data(), 2, cols,
                               1e-2f) == KILN_OK);
    EXPECT(mean[0] == 5.25f && mean[1] == 5.25f);
    EXPECT(std::fabs(rstd[0] - 10.0f) <= 1e-5f);
    bool exact = true;
    for (int64_t i = 0; i < 2 * cols; ++i) exact &= y[i] == beta[i % cols];
    EXPECT(exact);
    const std::vector<float> one = {3.0f, -2.0f, 7.5f};
    std::vector<float> y1(3, kNaN), b1 = {0.5f};
    EXPECT(kiln_layer_norm_f32(g_ctx, one.data(), nullptr, b1.data(), y1.data(), nullptr, nullptr, 3, 1, 1e-5f) ==
           KILN_OK);
    EXPECT(y1[0] == 0.5f && y1[1] == 0.5f && y1[2] == 0.5f);
}

// A row holding +inf or NaN has no variance: rstd and every y of that row are NaN (as the GPU's Welford merges and
// PyTorch give), not a variance clamped to 0 (rstd = 1/sqrt(eps)). The other rows of the same call are untouched.
void non_finite_rows() {
    const int64_t rows = 4, cols = 37;  // 37: the eight-lane loop and its tail
    const float eps = 1e-5f;
    std::vector<float> x = test_input(rows, cols, 77);
    x[1 * cols + 5] = std::numeric_limits<float>::infinity();
    x[3 * cols + 11] = kNaN;
    const std::vector<float> gamma = uniform(cols, 78, 0.5f, 1.5f), beta = uniform(cols, 79);
    std::vector<float> y(rows * cols, 0.0f), mean(rows, 0.0f), rstd(rows, 0.0f);
    EXPECT(kiln_layer_norm_f32(g_ctx, x.data(), gamma.data(), beta.data(), y.data(), mean.data(), rstd.data(), rows,
                               cols, eps) == KILN_OK);
    for (int64_t r : {1, 3}) {
        bool all_nan = std::isnan(rstd[r]);
        for (int64_t c = 0; c < cols; ++c) all_nan &= std::isnan(y[r * cols + c]);
        EXPECT(all_nan);
    }
    // Rows 0 and 2 against the reference over just those rows.
    for (int64_t r : {0, 2}) {
        const std::vector<float> row(x.begin() + r * cols, x.begin() + (r + 1) * cols);
        const std::vector<double> xd = widen(row);
        const RowStats s = ref_stats(xd, 1, cols);
        const double want_rstd = 1.0 / std::sqrt(s.var[0] + eps);
        const std::string name = "non-finite call, row " + std::to_string(r);
        const std::vector<double> want_y = ref_layer_norm(xd, widen(gamma), widen(beta), 1, cols, eps);
        EXPECT(all_close(name + " y", y.data() + r * cols, want_y.data(), (size_t)cols, 2e-6, 2e-6));
        EXPECT(all_close(name + " mean", mean.data() + r, s.mean.data(), 1, 1e-6, 1e-7));
        EXPECT(all_close(name + " rstd", rstd.data() + r, &want_rstd, 1, 2e-6, 0.0));
    }
}

// ---- backward ------------------------------------------------------------------------------------------------------

void backward_matches_finite_differences(int64_t rows, int64_t cols, bool with_gamma) {
    const std::string name = shape2(rows, cols) + (with_gamma ? " gamma" : "");
    const float eps = 1e-3f;
    const std::vector<float> x = test_input(rows, cols, rows * 7 + cols);
    const std::vector<float> gamma = with_gamma ? uniform(cols, 8, 0.5f, 1.5f) : std::vector<float>();
    const std::vector<float> beta = uniform(cols, 9);
    const std::vector<float> w = uniform(rows * cols, 10);  // L = sum w y, so dy = w
    const float* gp = with_gamma ? gamma.data() : nullptr;
    std::vector<float> y(rows * cols), mean(rows), rstd(rows);
    EXPECT(kiln_layer_norm_f32(g_ctx, x.data(), gp, beta.data(), y.data(), mean.data(), rstd.data(), rows, cols, eps) ==
           KILN_OK);
    std::vector<float> dx(rows * cols, kNaN), dgamma(cols, kNaN), dbeta(cols, kNaN);
    EXPECT(kiln_layer_norm_backward_f32(g_ctx, x.data(), w.data(), gp, mean.data(), rstd.data(), dx.data(),
                                        dgamma.data(), dbeta.data(), rows, cols) == KILN_OK);

    const std::vector<double> xd = widen(x), gd = widen(gamma), bd = widen(beta);
    auto loss = [&](const std::vector<double>& xv, const std::vector<double>& gv, const std::vector<double>& bv) {
        return kiln::test::dot(ref_layer_norm(xv, gv, bv, rows, cols, eps), w);
    };
    EXPECT(grad_matches("ln dx " + name, [&](const std::vector<double>& v) { return loss(v, gd, bd); }, xd, dx, kFd));
    EXPECT(grad_matches("ln dbeta " + name, [&](const std::vector<double>& v) { return loss(xd, gd, v); }, bd, dbeta,
                        kFd));
    // dgamma is the gradient of gamma whether or not the forward had one (it is the sum of dy xhat either way).
    const std::vector<double> ones(cols, 1.0);
    EXPECT(grad_matches("ln dgamma " + name, [&](const std::vector<double>& v) { return loss(xd, v, bd); },
                        with_gamma ? gd : ones, dgamma, kFd));
    // dgamma and dbeta against direct double sums, tighter than finite differences can judge.
    const RowStats s = ref_stats(xd, rows, cols);
    std::vector<double> want_g(cols, 0.0), want_b(cols, 0.0);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
            want_g[c] += w[r * cols + c] * (xd[r * cols + c] - s.mean[r]) / std::sqrt(s.var[r] + eps);
            want_b[c] += w[r * cols + c];
        }
    EXPECT(all_close("ln dgamma sums " + name, dgamma, want_g, 1e-5, 1e-5));
    EXPECT(all_close("ln dbeta sums " + name, dbeta, want_b, 1e-6, 1e-6));

    // Each output alone: the same bits as when all three are wanted.
    std::vector<float> only(std::max<int64_t>(rows * cols, cols), kNaN);
    EXPECT(kiln_layer_norm_backward_f32(g_ctx, x.data(), w.data(), gp, mean.data(), rstd.data(), only.data(), nullptr,
                                        nullptr, rows, cols) == KILN_OK);
    EXPECT(std::memcmp(only.data(), dx.data(), dx.size() * sizeof(float)) == 0);
    EXPECT(kiln_layer_norm_backward_f32(g_ctx, x.data(), w.data(), gp, mean.data(), rstd.data(), nullptr, only.data(),
                                        nullptr, rows, cols) == KILN_OK);
    EXPECT(std::memcmp(only.data(), dgamma.data(), cols * sizeof(float)) == 0);
    EXPECT(kiln_layer_norm_backward_f32(g_ctx, x.data(), w.data(), gp, mean.data(), rstd.data(), nullptr, nullptr,
                                        only.data(), rows, cols) == KILN_OK);
    EXPECT(std::memcmp(only.data(), dbeta.data(), cols * sizeof(float)) == 0);

    // dx written over dy (kiln.h allows it): dgamma and dbeta still sum the original dy; all three the same bits.
    std::vector<float> dy_dx = w, dgamma2(cols, kNaN), dbeta2(cols, kNaN);
    EXPECT(kiln_layer_norm_backward_f32(g_ctx, x.data(), dy_dx.data(), gp, mean.data(), rstd.data(), dy_dx.data(),
                                        dgamma2.data(), dbeta2.data(), rows, cols) == KILN_OK);
    EXPECT(std::memcmp(dy_dx.data(), dx.data(), dx.size() * sizeof(float)) == 0);
    EXPECT(std::memcmp(dgamma2.data(), dgamma.data(), cols * sizeof(float)) == 0);
    EXPECT(std::memcmp(dbeta2.data(), dbeta.data(), cols * sizeof(float)) == 0);
}

// No rows: the forward does nothing, the backward writes zeros into dgamma and dbeta.
void empty_batch() {
    std::vector<float> dgamma(5, kNaN), dbeta(5, kNaN);
    EXPECT(kiln_layer_norm_f32(g_ctx, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 0, 5, 1e-5f) == KILN_OK);
    EXPECT(kiln_layer_norm_backward_f32(g_ctx, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, dgamma.data(),
                                        dbeta.data(), 0, 5) == KILN_OK);
    bool zeros = true;
    for (int i = 0; i < 5; ++i) zeros &= dgamma[i] == 0.0f && dbeta[i] == 0.0f;
    EXPECT(zeros);
}

void validation() {
    float x[6] = {1, 2, 3, 4, 5, 6}, y[6], m[2], r[2];
    EXPECT(kiln_layer_norm_f32(nullptr, x, nullptr, nullptr, y, m, r, 2, 3, 1e-5f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_layer_norm_f32(g_ctx, nullptr, nullptr, nullptr, y, m, r, 2, 3, 1e-5f) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("kiln_layer_norm_f32") && message_has("'x'"));
    EXPECT(kiln_layer_norm_f32(g_ctx, x, nullptr, nullptr, nullptr, m, r, 2, 3, 1e-5f) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("'y'"));
    for (float eps : {0.0f, -1.0f, kNaN, std::numeric_limits<float>::infinity()})
        EXPECT(kiln_layer_norm_f32(g_ctx, x, nullptr, nullptr, y, m, r, 2, 3, eps) == KILN_ERR_INVALID_ARGUMENT &&
               message_has("'eps'"));
    EXPECT(kiln_layer_norm_f32(g_ctx, x, nullptr, nullptr, y, m, r, 2, 0, 1e-5f) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("cols >= 1") && message_has("rows=2"));
    EXPECT(kiln_layer_norm_f32(g_ctx, x, nullptr, nullptr, y, m, r, -1, 3, 1e-5f) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("rows=-1"));
    EXPECT(kiln_layer_norm_f32(g_ctx, x, nullptr, nullptr, y, m, r, INT64_MAX / 2, 4, 1e-5f) ==
               KILN_ERR_INVALID_ARGUMENT &&
           message_has("x (rows=") && message_has("too large"));
    float dx[6];
    EXPECT(kiln_layer_norm_backward_f32(g_ctx, x, x, nullptr, nullptr, r, dx, nullptr, nullptr, 2, 3) ==
               KILN_ERR_INVALID_ARGUMENT &&
           message_has("kiln_layer_norm_backward_f32") && message_has("'mean'"));
    EXPECT(kiln_layer_norm_backward_f32(g_ctx, x, nullptr, nullptr, m, r, dx, nullptr, nullptr, 2, 3) ==
               KILN_ERR_INVALID_ARGUMENT &&
           message_has("'dy'"));
    EXPECT(kiln_layer_norm_backward_f32(g_ctx, x, x, nullptr, m, r, dx, nullptr, nullptr, 2, 0) ==
               KILN_ERR_INVALID_ARGUMENT &&
           message_has("cols >= 1"));
    // Nothing wanted: nothing read, nothing refused.
    EXPECT(kiln_layer_norm_backward_f32(g_ctx, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 2,
                                        3) == KILN_OK);
}

}  // namespace

int main() {
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &g_ctx) != KILN_OK) {
        std::printf("cannot create a CPU context: %s\n", kiln_last_error());
        return 1;
    }
    const int64_t shapes[][2] = {{1, 1}, {1, 7}, {3, 8}, {5, 33}, {4, 257}, {2, 1025}, {64, 96}, {1, 100003}};
    for (const auto& s : shapes)
        for (int affine = 0; affine < 4; ++affine) forward_matches_reference(s[0], s[1], affine & 1, affine & 2);
    statistics_are_stable();
    constant_rows();
    non_finite_rows();
    for (bool g : {true, false}) {
        backward_matches_finite_differences(3, 7, g);
        backward_matches_finite_differences(4, 33, g);
        backward_matches_finite_differences(2, 257, g);
        backward_matches_finite_differences(1, 1030, g);
    }
    backward_matches_finite_differences(2000, 33, true);  // several row blocks of dgamma/dbeta partials
    empty_batch();
    validation();
    kiln_context_destroy(g_ctx);
    return kiln::test::finish("test_layernorm_cpu");
}

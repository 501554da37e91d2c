// Tests of the loss entries on a CPU context, through the C ABI: forward losses (and cross entropy's saved logsumexp)
// against naive double-precision references written here, every backward against central finite differences of the
// reference loss, and the edge cases (invalid labels, BCE at |x| = 100, huge logits, empty inputs, validation).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "common/softmax_math.h"
#include "cpu/loss_simd.h"
#include "cpu/simd.h"
#include "kiln/kiln.h"

using kiln::test::all_close;
using kiln::test::dot;
using kiln::test::grad_matches;
using kiln::test::message_has;
using kiln::test::uniform;
using kiln::test::widen;

// Finite-difference settings of this file's gradient checks.
const kiln::test::FiniteDifference kFd{1e-4, 1e-7, 64, 64};

namespace {

kiln_context* g_ctx = nullptr;
const float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<int32_t> labels_for(int64_t rows, int64_t cols, uint64_t seed) {
    std::vector<int32_t> l(rows);
    const std::vector<float> u = uniform(rows, seed, 0.0f, 1.0f);
    for (int64_t r = 0; r < rows; ++r) l[r] = std::min<int32_t>((int32_t)(u[r] * cols), (int32_t)cols - 1);
    return l;
}

bool close(const std::string& what, double got, double want, double rtol, double atol) {
    if (std::isnan(got) && std::isnan(want)) return true;
    if (std::fabs(got - want) <= atol + rtol * std::fabs(want)) return true;
    std::printf("  %s: got %.9g, want %.9g\n", what.c_str(), got, want);
    return false;
}

// ---- double references -------------------------------------------------------------------------------------------

double ref_lse(const double* row, int64_t cols) {
    double m = -INFINITY;
    for (int64_t c = 0; c < cols; ++c) m = std::fmax(m, row[c]);
    double s = 0;
    for (int64_t c = 0; c < cols; ++c) s += std::exp(row[c] - m);
    return m + std::log(s);
}

double ref_cross_entropy(const std::vector<double>& x, const std::vector<int32_t>& labels, int64_t rows, int64_t cols) {
    double total = 0;
    for (int64_t r = 0; r < rows; ++r) {
        if (labels[r] < 0 || labels[r] >= cols) return NAN;
        total += ref_lse(x.data() + r * cols, cols) - x[r * cols + labels[r]];
    }
    return total / (double)rows;
}

double ref_bce(const std::vector<double>& x, const std::vector<float>& t) {
    double total = 0;
    for (size_t i = 0; i < x.size(); ++i)
        total += std::fmax(x[i], 0.0) - x[i] * t[i] + std::log1p(std::exp(-std::fabs(x[i])));
    return total / (double)x.size();
}

double ref_mse(const std::vector<double>& x, const std::vector<float>& t) {
    double total = 0;
    for (size_t i = 0; i < x.size(); ++i) total += (x[i] - t[i]) * (x[i] - t[i]);
    return total / (double)x.size();
}

// ---- cross entropy -------------------------------------------------------------------------------------------------

void cross_entropy_forward_and_backward() {
    for (int64_t rows : {1, 7, 64}) {
        for (int64_t cols : {2, 10, 1000}) {
            const std::string name = "cross_entropy(" + std::to_string(rows) + "," + std::to_string(cols) + ")";
            const std::vector<float> x = uniform(rows * cols, rows * 31 + cols, -3.0f, 3.0f);
            const std::vector<int32_t> labels = labels_for(rows, cols, rows + cols);
            float loss = kNaN;
            std::vector<float> lse(rows, kNaN);
            EXPECT(kiln_cross_entropy_f32(g_ctx, x.data(), labels.data(), &loss, lse.data(), rows, cols) == KILN_OK);
            const std::vector<double> xd = widen(x);
            EXPECT(close(name, loss, ref_cross_entropy(xd, labels, rows, cols), 2e-6, 1e-7));
            std::vector<double> want_lse(rows);
            for (int64_t r = 0; r < rows; ++r) want_lse[r] = ref_lse(xd.data() + r * cols, cols);
            EXPECT(all_close(name + " lse", lse, want_lse, 1e-6, 1e-6));

            const float dloss = 0.7f;
            std::vector<float> dx(x.size(), kNaN);
            EXPECT(kiln_cross_entropy_backward_f32(g_ctx, x.data(), labels.data(), lse.data(), &dloss, dx.data(), rows,
                                                   cols) == KILN_OK);
            auto L = [&](const std::vector<double>& v) { return dloss * ref_cross_entropy(v, labels, rows, cols); };
            EXPECT(grad_matches(name + " backward", L, xd, dx, {1e-4, 1e-8, 64, 64}));
        }
    }
}

void cross_entropy_edges() {
    // Labels -1 and 3 (== cols) are invalid: the loss is NaN and so is each such row's gradient; other rows are not.
    const int64_t rows = 4, cols = 3;
    const std::vector<float> x = uniform(rows * cols, 77);
    const std::vector<int32_t> labels = {0, -1, 2, 3};
    float loss = 0.0f;
    std::vector<float> lse(rows);
    EXPECT(kiln_cross_entropy_f32(g_ctx, x.data(), labels.data(), &loss, lse.data(), rows, cols) == KILN_OK);
    EXPECT(std::isnan(loss));
    bool lse_finite = true;
    for (float v : lse) lse_finite &= std::isfinite(v);
    EXPECT(lse_finite);
    const float dloss = 1.0f;
    std::vector<float> dx(rows * cols);
    EXPECT(kiln_cross_entropy_backward_f32(g_ctx, x.data(), labels.data(), lse.data(), &dloss, dx.data(), rows, cols) ==
           KILN_OK);
    bool rows_ok = true;
    for (int64_t c = 0; c < cols; ++c) {
        rows_ok &= std::isfinite(dx[0 * cols + c]) && std::isfinite(dx[2 * cols + c]);
        rows_ok &= std::isnan(dx[1 * cols + c]) && std::isnan(dx[3 * cols + c]);
    }
    EXPECT(rows_ok);

    // Logits of 1e4 must not overflow: loss = log(1 + e^-1) for the max class.
    const std::vector<float> big = {1e4f, 1e4f - 1.0f, -1e4f};
    const std::vector<int32_t> first = {0};
    float big_loss = kNaN, big_lse = kNaN;
    EXPECT(kiln_cross_entropy_f32(g_ctx, big.data(), first.data(), &big_loss, &big_lse, 1, 3) == KILN_OK);
    // lse is stored in fp32, where an ulp of 1e4 is ~1e-3: that bounds the loss's absolute accuracy here.
    EXPECT(std::isfinite(big_loss) && close("cross_entropy huge", big_loss, std::log1p(std::exp(-1.0)), 0.0, 2e-3));

    // No rows: the mean of nothing is NaN (as torch); nothing else is touched.
    float empty_loss = 0.0f;
    EXPECT(kiln_cross_entropy_f32(g_ctx, nullptr, nullptr, &empty_loss, nullptr, 0, 5) == KILN_OK);
    EXPECT(std::isnan(empty_loss));
}

// ---- BCE with logits and MSE ---------------------------------------------------------------------------------------

void bce_and_mse_forward_and_backward() {
    for (int64_t n : {1, 7, 4099, 100003}) {
        const std::string sz = "(" + std::to_string(n) + ")";
        const std::vector<float> x = uniform(n, n, -6.0f, 6.0f);
        const std::vector<float> t = uniform(n, n + 1, 0.0f, 1.0f);
        const std::vector<double> xd = widen(x);
        const float dloss = 1.3f;
        auto subset = [&](const std::vector<float>& v) {  // FD cost is O(n) per coordinate: check a prefix for big n
            return std::vector<float>(v.begin(), v.begin() + std::min<int64_t>(n, 4099));
        };

        float loss = kNaN;
        EXPECT(kiln_bce_with_logits_f32(g_ctx, x.data(), t.data(), &loss, n) == KILN_OK);
        EXPECT(close("bce" + sz, loss, ref_bce(xd, t), 1e-6, 1e-7));
        std::vector<float> dx(n, kNaN);
        EXPECT(kiln_bce_with_logits_backward_f32(g_ctx, x.data(), t.data(), &dloss, dx.data(), n) == KILN_OK);
        {
            const std::vector<float> xs = subset(x), ts = subset(t), gs = subset(dx);
            const double ratio = (double)xs.size() / (double)n;  // the reference mean is over the prefix
            auto L = [&](const std::vector<double>& v) { return dloss * ratio * ref_bce(v, ts); };
            EXPECT(grad_matches("bce backward" + sz, L, widen(xs), gs, {1e-4, 1e-9, 64, 64}));
        }

        EXPECT(kiln_mse_f32(g_ctx, x.data(), t.data(), &loss, n) == KILN_OK);
        EXPECT(close("mse" + sz, loss, ref_mse(xd, t), 1e-6, 1e-7));
        EXPECT(kiln_mse_backward_f32(g_ctx, x.data(), t.data(), &dloss, dx.data(), n) == KILN_OK);
        {
            const std::vector<float> xs = subset(x), ts = subset(t), gs = subset(dx);
            const double ratio = (double)xs.size() / (double)n;
            auto L = [&](const std::vector<double>& v) { return dloss * ratio * ref_mse(v, ts); };
            EXPECT(grad_matches("mse backward" + sz, L, widen(xs), gs, {1e-4, 1e-9, 64, 64}));
        }
    }
}

// BCE's term at an infinite logit: w |x| with w = 1 - t at +inf and t at -inf, 0 where w is 0.
double bce_limit(float x, float t) {
    const double w = x > 0 ? 1.0 - t : t;
    return w == 0 ? 0.0 : w * HUGE_VAL;
}

void bce_extremes_and_empty() {
    // |x| = 100: exp never overflows and sigmoid saturates exactly.
    const std::vector<float> x = {100.0f, -100.0f, 100.0f, -100.0f};
    const std::vector<float> t = {1.0f, 0.0f, 0.0f, 1.0f};
    float loss = kNaN;
    EXPECT(kiln_bce_with_logits_f32(g_ctx, x.data(), t.data(), &loss, 4) == KILN_OK);
    EXPECT(std::isfinite(loss) && close("bce |x|=100", loss, 50.0, 1e-7, 0.0));
    const float dloss = 2.0f;
    std::vector<float> dx(4, kNaN);
    EXPECT(kiln_bce_with_logits_backward_f32(g_ctx, x.data(), t.data(), &dloss, dx.data(), 4) == KILN_OK);
    EXPECT(all_close("bce |x|=100 backward", dx, {0.0, 0.0, 0.5, -0.5}, 1e-7, 1e-30));

    // Infinite logits give the loss's limit (the stable form's inf - inf and 0 * inf made NaN; PyTorch 2.13 gives NaN
    // at four of these six) and the gradient sigmoid(x) - t; one element per call, so the loss is the term itself.
    for (float xi : {INFINITY, -INFINITY})
        for (float ti : {0.0f, 0.25f, 1.0f}) {
            float l = kNaN, g = kNaN;
            const float one = 1.0f;
            EXPECT(kiln_bce_with_logits_f32(g_ctx, &xi, &ti, &l, 1) == KILN_OK);
            EXPECT(kiln_bce_with_logits_backward_f32(g_ctx, &xi, &ti, &one, &g, 1) == KILN_OK);
            EXPECT(l == bce_limit(xi, ti) && g == (xi > 0 ? 1.0f - ti : -ti));
        }

    // Losses are deterministic call to call, and the mean of nothing is NaN.
    const std::vector<float> big = uniform(300001, 9, -3.0f, 3.0f), tb = uniform(300001, 10, 0.0f, 1.0f);
    float a = 0, b = 0;
    EXPECT(kiln_mse_f32(g_ctx, big.data(), tb.data(), &a, 300001) == KILN_OK);
    EXPECT(kiln_mse_f32(g_ctx, big.data(), tb.data(), &b, 300001) == KILN_OK);
    EXPECT(std::memcmp(&a, &b, 4) == 0);
    float empty = 0.0f;
    EXPECT(kiln_mse_f32(g_ctx, nullptr, nullptr, &empty, 0) == KILN_OK);
    EXPECT(std::isnan(empty));
    EXPECT(kiln_bce_with_logits_f32(g_ctx, nullptr, nullptr, &empty, 0) == KILN_OK);
    EXPECT(std::isnan(empty));
}

// ---- validation ----------------------------------------------------------------------------------------------------

void validation_names_op_and_argument() {
    float buf[8] = {0};
    int32_t labels[4] = {0};
    EXPECT(kiln_cross_entropy_f32(g_ctx, buf, labels, buf, buf, 2, 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_cross_entropy_f32") && message_has("'cols'") && message_has("got 0"));
    EXPECT(kiln_cross_entropy_f32(g_ctx, buf, labels, buf, buf, -2, 3) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_cross_entropy_f32") && message_has("'rows'") && message_has("-2"));
    EXPECT(kiln_cross_entropy_f32(g_ctx, buf, nullptr, buf, buf, 2, 3) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'labels' is null"));
    EXPECT(kiln_cross_entropy_f32(g_ctx, buf, labels, buf, nullptr, 2, 3) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'lse' is null"));
    EXPECT(kiln_cross_entropy_backward_f32(g_ctx, buf, labels, buf, nullptr, buf, 2, 3) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_cross_entropy_backward_f32") && message_has("'dloss' is null"));
    EXPECT(kiln_mse_f32(g_ctx, buf, buf, buf, -1) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_mse_f32") && message_has("'n'") && message_has("-1"));
    EXPECT(kiln_mse_f32(g_ctx, buf, buf, nullptr, 4) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_mse_f32") && message_has("'loss' is null"));
    EXPECT(kiln_bce_with_logits_f32(g_ctx, buf, nullptr, buf, 4) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_bce_with_logits_f32") && message_has("'t' is null"));
    EXPECT(kiln_bce_with_logits_backward_f32(g_ctx, buf, buf, nullptr, buf, 4) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_bce_with_logits_backward_f32") && message_has("'dloss' is null"));
    EXPECT(kiln_mse_backward_f32(nullptr, buf, buf, buf, buf, 4) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_mse_backward_f32") && message_has("ctx"));
    // A NULL gradient means "not wanted".
    EXPECT(kiln_mse_backward_f32(g_ctx, buf, buf, buf, nullptr, 4) == KILN_OK);
}

}  // namespace

// The vector BCE spans of each ISA this CPU runs (AVX-512 and AVX2) against double precision, lane by lane over a
// sweep of logits and targets: never more than 3 ulp (of the formula's largest operand) worse than the scalar formula
// with glibc's expf and log1pf, NaN where it is NaN; and a span's sum leaves the masked-off lanes of its last vector
// out.
void bce_vector_spans_match_scalar(const char* isa, const kiln::cpu::BceSpans& spans) {
    std::vector<float> xs = {0.0f, -0.0f, 1e-30f, -1e-30f, 87.0f, -87.0f, 88.7f, -88.7f, 103.0f, -103.0f, 200.0f,
                             -200.0f, 1e4f, -1e4f, std::numeric_limits<float>::infinity(),
                             -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()};
    for (int i = 0; i <= 4000; ++i) {
        const float v = std::pow(10.0f, -8.0f + 11.0f * (float)i / 4000.0f);  // 1e-8 .. 1e3
        xs.push_back(v);
        xs.push_back(-v);
    }
    const float ts[] = {0.0f, 0.25f, 1.0f};
    double worst_excess = 0.0;
    int bad = 0;
    for (float x : xs)
        for (float t : ts) {
            const double ref = std::max((double)x, 0.0) - (double)x * t + std::log1p(std::exp(-std::fabs((double)x)));
            const float scalar = kiln::bce_logits_term(x, t);
            const double vec = spans.sum(&x, &t, 1);
            float g = 0.0f;
            spans.grad(&x, &t, 1.0f, &g, 1);
            const double gref = 1.0 / (1.0 + std::exp(-(double)x)) - t;
            const float gscalar = kiln::bce_logits_grad(x, t, 1.0f);
            if (std::isinf(x)) {  // the limit, the same on both paths (the formula above gives NaN there)
                const double limit = bce_limit(x, t);
                bad += !(scalar == limit && vec == limit && g == gscalar && g == (float)gref);
                continue;
            }
            if (std::isnan(ref) || std::isnan(scalar)) {
                bad += !(std::isnan(vec) == std::isnan((double)scalar));
                continue;
            }
            // Errors in ulp of the largest operand of the formula's last subtraction: max(x, 0) - x t + l cancels to
            // a small term, and sigmoid(x) - t to a small gradient, for every implementation alike.
            const double l = std::log1p(std::exp(-std::fabs((double)x)));
            const auto ulp_of = [](double v) {
                const float f = std::fabs((float)v);
                return std::max((double)std::nextafter(f, INFINITY) - f, 1e-45);
            };
            const double ulp = ulp_of(std::max({std::fabs(ref), std::max((double)x, 0.0), std::fabs((double)x * t), l}));
            const double excess = (std::fabs(vec - ref) - std::fabs((double)scalar - ref)) / ulp;
            const double gulp = ulp_of(std::max(std::fabs(gref + t), (double)t));
            const double gexcess = (std::fabs((double)g - gref) - std::fabs((double)gscalar - gref)) / gulp;
            worst_excess = std::max({worst_excess, excess, gexcess});
            if (excess > 3.0 || gexcess > 3.0) {
                if (++bad <= 5) std::printf("bce x=%g t=%g: vector %.9g / %.9g, scalar %.9g / %.9g, ref %.9g / %.9g\n", x, t,
                                            vec, g, scalar, gscalar, ref, gref);
            }
        }
    std::printf("bce vector spans (%s): worst excess over the scalar error %.2f ulp over %zu logits x 3 targets\n", isa,
                worst_excess, xs.size());
    EXPECT(bad == 0);
    // 37 lanes: two full vectors and a 5-lane tail whose masked-off zeros must not add their ln2 each.
    std::vector<float> x37(37), t37(37);
    double want = 0.0;
    for (int i = 0; i < 37; ++i) {
        x37[i] = 0.37f * (float)(i - 18);
        t37[i] = (float)(i % 2);
        want += spans.sum(&x37[i], &t37[i], 1);
    }
    EXPECT(std::fabs(spans.sum(x37.data(), t37.data(), 37) - want) < 1e-9);
}

int main() {
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &g_ctx) != KILN_OK) {
        std::printf("cannot create the CPU context: %s\n", kiln_last_error());
        return 1;
    }
    cross_entropy_forward_and_backward();
    cross_entropy_edges();
    bce_and_mse_forward_and_backward();
    bce_extremes_and_empty();
    if (kiln::cpu::isa() == kiln::cpu::Isa::Avx512)
        bce_vector_spans_match_scalar("avx512", kiln::cpu::avx512::kBceSpans);
    if (kiln::cpu::isa() != kiln::cpu::Isa::Baseline) bce_vector_spans_match_scalar("avx2", kiln::cpu::avx2::kBceSpans);
    if (kiln::cpu::isa() == kiln::cpu::Isa::Baseline) std::printf("bce vector spans: skipped (no AVX2 on this CPU)\n");
    validation_names_op_and_argument();
    kiln_context_destroy(g_ctx);
    return kiln::test::finish("test_loss_cpu");
}

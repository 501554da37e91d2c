// Tests of the reduction and softmax entries on a CPU context, through the C ABI: forward results against naive
// double-precision references written here, every backward against central finite differences of those references,
// and the edge cases (huge logits, -inf masking, NaN and ties in max, long sums, validation messages).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "cpu/reduce_rows.h"
#include "cpu/simd.h"
#include "kiln/kiln.h"

using kiln::test::all_close;
using kiln::test::dot;
using kiln::test::grad_matches;
using kiln::test::message_has;
using kiln::test::uniform;
using kiln::test::widen;

// Finite-difference settings of this file's gradient checks.
const kiln::test::FiniteDifference kFd{1e-4, 2e-6, 64, 64};

namespace {

kiln_context* g_ctx = nullptr;
const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

std::string shape3(int64_t a, int64_t b, int64_t c) {
    return "(" + std::to_string(a) + "," + std::to_string(b) + "," + std::to_string(c) + ")";
}
std::string shape2(int64_t a, int64_t b) { return "(" + std::to_string(a) + "," + std::to_string(b) + ")"; }

// ---- double references -------------------------------------------------------------------------------------------

std::vector<double> ref_reduce_sum(const std::vector<double>& x, int64_t outer, int64_t len, int64_t inner,
                                   double scale) {
    std::vector<double> y(outer * inner, 0.0);
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t l = 0; l < len; ++l)
            for (int64_t i = 0; i < inner; ++i) y[o * inner + i] += x[(o * len + l) * inner + i];
    for (auto& v : y) v *= scale;
    return y;
}

std::vector<double> ref_softmax(const std::vector<double>& x, int64_t rows, int64_t cols, bool log) {
    std::vector<double> y(x.size());
    for (int64_t r = 0; r < rows; ++r) {
        const double* xr = x.data() + r * cols;
        double m = -INFINITY;
        for (int64_t c = 0; c < cols; ++c) m = std::fmax(m, xr[c]);
        double s = 0;
        for (int64_t c = 0; c < cols; ++c) s += std::exp(xr[c] - m);
        for (int64_t c = 0; c < cols; ++c)
            y[r * cols + c] = log ? (xr[c] - m) - std::log(s) : std::exp(xr[c] - m) / s;
    }
    return y;
}

// ---- reduce_sum ----------------------------------------------------------------------------------------------------

void reduce_sum_forward_and_backward() {
    const int64_t shapes[][3] = {{1, 1, 1},  {7, 33, 1}, {1, 257, 1},  {5, 7, 33},  {3, 1000, 5},
                                 {2, 3, 600}, {4, 0, 3},  {2, 40000, 1}, {2, 5000, 40}, {1, 100003, 1}};
    for (const auto& s : shapes) {
        const int64_t outer = s[0], len = s[1], inner = s[2];
        for (bool mean : {false, true}) {
            const float scale = mean && len > 0 ? 1.0f / (float)len : 1.0f;
            const std::string name = std::string(mean ? "mean" : "sum") + shape3(outer, len, inner);
            const std::vector<float> x = uniform(outer * len * inner, outer * 131 + len * 7 + inner);
            std::vector<float> y(outer * inner, kNaN);
            EXPECT(kiln_reduce_sum_f32(g_ctx, x.data(), y.data(), outer, len, inner, scale) == KILN_OK);
            EXPECT(all_close("reduce_sum " + name, y, ref_reduce_sum(widen(x), outer, len, inner, scale), 1e-6, 1e-7));

            // L(x) = sum w * reduce(x): its gradient is the backward of w.
            const std::vector<float> w = uniform(outer * inner, 99 + len);
            std::vector<float> dx(x.size(), kNaN);
            EXPECT(kiln_reduce_sum_backward_f32(g_ctx, w.data(), dx.data(), outer, len, inner, scale) == KILN_OK);
            auto L = [&](const std::vector<double>& xd) {
                return dot(ref_reduce_sum(xd, outer, len, inner, scale), w);
            };
            if (x.size() <= 5000) EXPECT(grad_matches("reduce_sum_backward " + name, L, widen(x), dx, kFd));
            // Long shapes: the gradient is exactly scale * w broadcast, so compare directly.
            std::vector<double> want(x.size());
            for (int64_t o = 0; o < outer; ++o)
                for (int64_t l = 0; l < len; ++l)
                    for (int64_t i = 0; i < inner; ++i)
                        want[(o * len + l) * inner + i] = (double)(scale * w[o * inner + i]);
            EXPECT(all_close("reduce_sum_backward exact " + name, dx, want, 0.0, 0.0));
        }
    }
}

// A 1M-element all-reduce must come out as the correctly rounded double sum: an fp32 running sum of these values
// would be off by ~1e-4 relative.
void long_sums_are_accurate() {
    const int64_t n = 1 << 20;
    std::vector<float> x(n);
    for (int64_t i = 0; i < n; ++i) x[i] = 0.1f * (float)(i % 7) + 1e-3f * (float)(i % 13);
    double want = 0, want_sq = 0;
    for (float v : x) {
        want += v;
        want_sq += (double)v * v;
    }
    float y = kNaN, sq = kNaN;
    EXPECT(kiln_reduce_sum_f32(g_ctx, x.data(), &y, 1, n, 1, 1.0f) == KILN_OK);
    EXPECT(y == (float)want);
    EXPECT(kiln_sum_squares_f32(g_ctx, x.data(), n, &sq) == KILN_OK);
    EXPECT(std::fabs(sq - want_sq) <= 1e-7 * want_sq);  // the squares' sum is not exact in double, so allow an ulp
    float again = kNaN;
    EXPECT(kiln_sum_squares_f32(g_ctx, x.data(), n, &again) == KILN_OK);
    EXPECT(std::memcmp(&sq, &again, 4) == 0);  // deterministic
    // Column sums over a long axis take the split path; they must agree with the reference too.
    std::vector<float> cols(2 * 3, kNaN);
    std::vector<float> x3 = uniform(2 * 300000 * 3, 5);
    EXPECT(kiln_reduce_sum_f32(g_ctx, x3.data(), cols.data(), 2, 300000, 3, 1.0f) == KILN_OK);
    EXPECT(all_close("column sum (2,300000,3)", cols, ref_reduce_sum(widen(x3), 2, 300000, 3, 1.0), 1e-7, 1e-6));
}

void sum_squares_forward() {
    for (int64_t n : {0, 1, 7, 4099, 100003}) {
        const std::vector<float> x = uniform(n, n + 3, -2.0f, 2.0f);
        double want = 0;
        for (float v : x) want += (double)v * v;
        float out = kNaN;
        EXPECT(kiln_sum_squares_f32(g_ctx, x.data(), n, &out) == KILN_OK);
        EXPECT(std::fabs(out - want) <= 1e-7 * want);
    }
}

// ---- max_lastdim ---------------------------------------------------------------------------------------------------

void max_forward_and_backward() {
    const int64_t shapes[][2] = {{1, 1}, {7, 33}, {64, 10}, {3, 1000}, {1, 4099}};
    for (const auto& s : shapes) {
        const int64_t rows = s[0], cols = s[1];
        const std::string name = shape2(rows, cols);
        const std::vector<float> x = uniform(rows * cols, rows * 17 + cols);
        std::vector<float> y(rows, kNaN);
        std::vector<int32_t> idx(rows, -7);
        EXPECT(kiln_max_lastdim_f32(g_ctx, x.data(), y.data(), idx.data(), rows, cols) == KILN_OK);
        bool ok = true;
        for (int64_t r = 0; r < rows; ++r) {
            int64_t best = 0;
            for (int64_t c = 1; c < cols; ++c)
                if (x[r * cols + c] > x[r * cols + best]) best = c;
            ok &= idx[r] == best && y[r] == x[r * cols + best];
        }
        EXPECT(ok);
        const std::vector<float> w = uniform(rows, cols);
        std::vector<float> dx(x.size(), kNaN);
        EXPECT(kiln_max_lastdim_backward_f32(g_ctx, w.data(), idx.data(), dx.data(), rows, cols) == KILN_OK);
        auto L = [&](const std::vector<double>& xd) {
            double l = 0;
            for (int64_t r = 0; r < rows; ++r) {
                double m = -INFINITY;
                for (int64_t c = 0; c < cols; ++c) m = std::fmax(m, xd[r * cols + c]);
                l += w[r] * m;
            }
            return l;
        };
        EXPECT(grad_matches("max_lastdim_backward " + name, L, widen(x), dx, kFd));
    }
}

void max_ties_nan_and_infinities() {
    // Ties go to the first index; NaN is the max (the first NaN); all -inf picks index 0.
    const std::vector<float> x = {1, 3, 3, 2,                //
                                  kNaN, 5, kNaN, 9,          //
                                  1, 2, 3, kNaN,             //
                                  -kInf, -kInf, -kInf, -kInf,  //
                                  -0.0f, 0.0f, -1, -2,       //
                                  4, 4, 4, 4};
    std::vector<float> y(6);
    std::vector<int32_t> idx(6);
    EXPECT(kiln_max_lastdim_f32(g_ctx, x.data(), y.data(), idx.data(), 6, 4) == KILN_OK);
    EXPECT(idx[0] == 1 && y[0] == 3.0f);
    EXPECT(idx[1] == 0 && std::isnan(y[1]));
    EXPECT(idx[2] == 3 && std::isnan(y[2]));
    EXPECT(idx[3] == 0 && y[3] == -kInf);
    EXPECT(idx[4] == 0 && y[4] == 0.0f);
    EXPECT(idx[5] == 0 && y[5] == 4.0f);
    // The backward routes dy to the saved index only; an out-of-range index leaves a zero row.
    const std::vector<float> dy = {1, 2, 3, 4, 5, 6};
    std::vector<int32_t> bad = idx;
    bad[5] = 4;
    std::vector<float> dx(24, kNaN);
    EXPECT(kiln_max_lastdim_backward_f32(g_ctx, dy.data(), bad.data(), dx.data(), 6, 4) == KILN_OK);
    EXPECT(dx[1] == 1 && dx[0] == 0 && dx[2] == 0 && dx[4] == 2 && dx[11] == 3 && dx[12] == 4);
    EXPECT(dx[20] == 0 && dx[21] == 0 && dx[22] == 0 && dx[23] == 0);
}

// ---- softmax -------------------------------------------------------------------------------------------------------

void softmax_forward_and_backward() {
    const int64_t shapes[][2] = {{1, 1}, {7, 33}, {64, 10}, {3, 1000}, {1, 4099}};
    for (const auto& s : shapes) {
        const int64_t rows = s[0], cols = s[1];
        for (int32_t log : {0, 1}) {
            const std::string name = std::string(log ? "log_softmax" : "softmax") + shape2(rows, cols);
            const std::vector<float> x = uniform(rows * cols, rows * 5 + cols + log, -4.0f, 4.0f);
            std::vector<float> y(x.size(), kNaN);
            EXPECT(kiln_softmax_f32(g_ctx, x.data(), y.data(), rows, cols, log) == KILN_OK);
            EXPECT(all_close(name, y, ref_softmax(widen(x), rows, cols, log), 2e-6, log ? 2e-6 : 1e-9));

            const std::vector<float> w = uniform(x.size(), cols * 3 + 1);
            std::vector<float> dx(x.size(), kNaN);
            EXPECT(kiln_softmax_backward_f32(g_ctx, y.data(), w.data(), dx.data(), rows, cols, log) == KILN_OK);
            auto L = [&](const std::vector<double>& xd) { return dot(ref_softmax(xd, rows, cols, log), w); };
            EXPECT(grad_matches(name + " backward", L, widen(x), dx, {1e-4, log ? 2e-5 : 2e-6, 64, 64}));
        }
    }
}

void softmax_extremes() {
    // Logits of +-1e4 must not overflow: the max is subtracted first.
    const std::vector<float> x = {1e4f, -1e4f, 0.0f, 1e4f - 1.0f};
    std::vector<float> y(4), ly(4);
    EXPECT(kiln_softmax_f32(g_ctx, x.data(), y.data(), 1, 4, 0) == KILN_OK);
    EXPECT(kiln_softmax_f32(g_ctx, x.data(), ly.data(), 1, 4, 1) == KILN_OK);
    const double z = 1.0 + std::exp(-1.0);
    EXPECT(all_close("softmax huge", y, {1.0 / z, 0.0, 0.0, std::exp(-1.0) / z}, 1e-6, 0.0));
    EXPECT(all_close("log_softmax huge", ly, {-std::log(z), -2e4 - std::log(z), -1e4 - std::log(z), -1.0 - std::log(z)},
                     1e-6, 0.0));
    bool finite = true;
    for (int i = 0; i < 4; ++i) finite &= std::isfinite(y[i]) && std::isfinite(ly[i]);
    EXPECT(finite);

    // -inf (a mask) next to finite logits is an exact 0; a row with NaN, +inf, or only -inf is NaN throughout.
    const std::vector<float> m = {-kInf, 0.0f, 1.0f,  //
                                  1.0f, kNaN, 2.0f,   //
                                  1.0f, kInf, 2.0f,   //
                                  -kInf, -kInf, -kInf};
    std::vector<float> my(12);
    EXPECT(kiln_softmax_f32(g_ctx, m.data(), my.data(), 4, 3, 0) == KILN_OK);
    EXPECT(my[0] == 0.0f);
    const std::vector<double> unmasked = {1 / (1 + std::exp(1.0)), 1 / (1 + std::exp(-1.0))};
    EXPECT(all_close("masked softmax", my.data() + 1, unmasked.data(), 2, 1e-6, 0.0));
    bool nan_rows = true;
    for (int i = 3; i < 12; ++i) nan_rows &= std::isnan(my[i]);
    EXPECT(nan_rows);
}

// ---- validation ----------------------------------------------------------------------------------------------------

void validation_names_op_and_argument() {
    float buf[8] = {0};
    int32_t ibuf[4] = {0};
    EXPECT(kiln_softmax_f32(g_ctx, buf, buf, 2, 0, 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_softmax_f32") && message_has("'cols'") && message_has("got 0"));
    EXPECT(kiln_reduce_sum_f32(g_ctx, buf, buf, -1, 2, 2, 1.0f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_reduce_sum_f32") && message_has("'outer'") && message_has("-1"));
    EXPECT(kiln_reduce_sum_f32(g_ctx, nullptr, buf, 1, 2, 2, 1.0f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_reduce_sum_f32") && message_has("'x' is null"));
    EXPECT(kiln_reduce_sum_f32(g_ctx, buf, buf, INT64_MAX / 2, 4, 1, 1.0f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("overflows"));
    EXPECT(kiln_max_lastdim_f32(g_ctx, buf, buf, ibuf, 1, (int64_t)1 << 31) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_max_lastdim_f32") && message_has("'cols'") && message_has("int32"));
    EXPECT(kiln_max_lastdim_f32(g_ctx, buf, buf, nullptr, 2, 2) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'index' is null"));
    EXPECT(kiln_max_lastdim_backward_f32(g_ctx, buf, ibuf, buf, -3, 2) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_max_lastdim_backward_f32") && message_has("'rows'"));
    EXPECT(kiln_sum_squares_f32(g_ctx, buf, 4, nullptr) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_sum_squares_f32") && message_has("'out' is null"));
    EXPECT(kiln_softmax_backward_f32(g_ctx, nullptr, buf, buf, 2, 2, 1) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_softmax_backward_f32") && message_has("'y' is null"));
    EXPECT(kiln_softmax_f32(nullptr, buf, buf, 2, 2, 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_softmax_f32") && message_has("ctx"));
    // Empty shapes are fine with null pointers; a NULL gradient means "not wanted".
    EXPECT(kiln_softmax_f32(g_ctx, nullptr, nullptr, 0, 5, 0) == KILN_OK);
    EXPECT(kiln_reduce_sum_f32(g_ctx, nullptr, nullptr, 0, 5, 5, 1.0f) == KILN_OK);
    EXPECT(kiln_softmax_backward_f32(g_ctx, buf, buf, nullptr, 2, 2, 0) == KILN_OK);
}

}  // namespace

// The vector row spans' exp, for each ISA this CPU runs (AVX-512 and AVX2), against long double over [-200, 0] (every
// 2^-8, and the limits): within 2 ulp where the result is normal, within half the smallest normal's ulp below; NaN
// stays NaN; the cross-entropy row subtracts 1 at the label only, and a tail of 5 lanes is written and summed exactly
// as far as the row goes; the sum and dot spans agree with double loops, tails included.
void row_spans_match_long_double(const char* isa, const kiln::cpu::RowSpans& spans) {
    std::vector<float> x;
    for (int k = 0; k <= 200 * 256; ++k) x.push_back(-(float)k / 256.0f);
    x.push_back(-std::numeric_limits<float>::infinity());
    x.push_back(std::numeric_limits<float>::quiet_NaN());
    const int64_t n = (int64_t)x.size();
    std::vector<float> y((size_t)n, 0.0f);
    spans.exp_shifted(x.data(), n, 0.0f, y.data());
    double worst = 0.0;
    float at = 0.0f;
    for (int64_t i = 0; i + 1 < n; ++i) {
        const long double ref = std::exp((long double)x[(size_t)i]);
        const long double a = std::fabs(ref);
        const double ulp = a >= 0x1p-126L ? (double)std::ldexp(1.0L, std::ilogb(a) - 23) : 0x1p-149;
        const double err = (double)(std::fabs((long double)y[(size_t)i] - ref) / ulp);
        if (!(err <= worst)) worst = err, at = x[(size_t)i];
    }
    std::printf("row spans (%s): exp over [-200, 0] within %.2f ulp (worst at %g)\n", isa, worst, at);
    EXPECT(worst <= 2.0 && y[(size_t)(n - 2)] == 0.0f && std::isnan(y[(size_t)(n - 1)]));

    std::vector<float> row(37), d(37, -7.0f);
    for (int i = 0; i < 37; ++i) row[(size_t)i] = 0.1f * (float)(i - 20);
    const float m = row[36];
    double want = 0.0;
    for (float v : row) want += (double)std::exp((long double)(v - m));
    EXPECT(std::fabs(spans.sum_exp_shifted(row.data(), 37, m) - want) < 1e-6 * want);
    spans.cross_entropy_grad_row(row.data(), 37, 2.0f, 33, 0.5f, d.data());
    bool grad_ok = true;
    for (int i = 0; i < 37; ++i) {
        const double g = ((double)std::exp((long double)(row[(size_t)i] - 2.0f)) - (i == 33 ? 1.0 : 0.0)) * 0.5;
        grad_ok = grad_ok && std::fabs(d[(size_t)i] - g) <= 1e-6;
    }
    EXPECT(grad_ok);

    for (int64_t len : {1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 1001}) {  // every tail length of both widths' loops
        std::vector<float> a((size_t)len), b((size_t)len);
        double sa = 0.0, sab = 0.0;
        for (int64_t i = 0; i < len; ++i) {
            a[(size_t)i] = 0.25f * (float)((i * 7) % 19) - 2.0f;
            b[(size_t)i] = 0.5f * (float)((i * 5) % 11) - 2.5f;
            sa += a[(size_t)i];  // sums of these quarter-integers are exact in double, in any order
            sab += (double)a[(size_t)i] * b[(size_t)i];
        }
        EXPECT(spans.sum(a.data(), len) == sa && spans.dot(a.data(), b.data(), len) == sab);
    }
}

int main() {
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &g_ctx) != KILN_OK) {
        std::printf("cannot create the CPU context: %s\n", kiln_last_error());
        return 1;
    }
    reduce_sum_forward_and_backward();
    long_sums_are_accurate();
    sum_squares_forward();
    max_forward_and_backward();
    max_ties_nan_and_infinities();
    softmax_forward_and_backward();
    softmax_extremes();
    if (kiln::cpu::isa() == kiln::cpu::Isa::Avx512) row_spans_match_long_double("avx512", kiln::cpu::avx512::kRowSpans);
    if (kiln::cpu::isa() != kiln::cpu::Isa::Baseline) row_spans_match_long_double("avx2", kiln::cpu::avx2::kRowSpans);
    if (kiln::cpu::isa() == kiln::cpu::Isa::Baseline) std::printf("row spans: skipped (no AVX2 on this CPU)\n");
    validation_names_op_and_argument();
    kiln_context_destroy(g_ctx);
    return kiln::test::finish("test_reduce_cpu");
}

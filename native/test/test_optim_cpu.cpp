// Tests of the optimizer steps on a CPU context through the C ABI: SGD (plain, momentum, Nesterov, weight decay) and
// Adam/AdamW over three steps against a double-precision reference, hand-computed step sequences, capturable Adam
// (device-side step count) bit for bit against the ordinary entry, and the validation errors. Standalone main; exits nonzero on any failure.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "check.h"
#include "kiln/kiln.h"

using kiln::test::message_has;

namespace {

kiln_context* g_ctx = nullptr;


std::vector<float> uniform(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    std::vector<float> v(n);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 7;
    for (auto& x : v) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x = lo + (hi - lo) * (float)((s >> 40) * 0x1p-24);
    }
    return v;
}

bool close(double got, double want, double tol) { return std::fabs(got - want) <= tol && !std::isnan(got); }

// ---- SGD ---------------------------------------------------------------------------------------------------------

struct SgdConfig {
    float lr, momentum, wd;
    int nesterov;
};

// Three steps, each with its own gradient, against the PyTorch rule evaluated in double.
void sgd_vs_reference(const SgdConfig& c, size_t n) {
    std::vector<float> p = uniform(n, 1), v(n, 0.0f);
    std::vector<double> rp(p.begin(), p.end()), rv(n, 0.0);
    const bool has_v = c.momentum != 0.0f;
    for (int step = 0; step < 3; ++step) {
        const std::vector<float> g = uniform(n, 10 + step);
        EXPECT(kiln_sgd_step_f32(g_ctx, p.data(), g.data(), has_v ? v.data() : nullptr, (int64_t)n, c.lr, c.momentum,
                                 c.wd, c.nesterov) == KILN_OK);
        for (size_t i = 0; i < n; ++i) {
            const double gd = g[i] + (double)c.wd * rp[i];
            double stepv = gd;
            if (has_v) {
                rv[i] = c.momentum * rv[i] + gd;
                stepv = c.nesterov ? gd + c.momentum * rv[i] : rv[i];
            }
            rp[i] -= c.lr * stepv;
        }
    }
    int bad = 0;
    for (size_t i = 0; i < n; ++i) {
        bad += !close(p[i], rp[i], 1e-6 * (1 + std::fabs(rp[i])));
        if (has_v) bad += !close(v[i], rv[i], 1e-6 * (1 + std::fabs(rv[i])));
    }
    if (bad)
        std::printf("  sgd lr=%g momentum=%g wd=%g nesterov=%d n=%zu: %d mismatches\n", c.lr, c.momentum, c.wd,
                    c.nesterov, n, bad);
    EXPECT(bad == 0);
}

// p = 1, constant g = 0.5, lr = 0.1: the numbers worked by hand.
void sgd_hand_computed() {
    const float g = 0.5f;
    float p = 1.0f, v = 0.0f;
    const double momentum_path[3] = {0.95, 0.855, 0.7195};  // v = 0.5, 0.95, 1.355
    for (int s = 0; s < 3; ++s) {
        kiln_sgd_step_f32(g_ctx, &p, &g, &v, 1, 0.1f, 0.9f, 0.0f, 0);
        EXPECT(close(p, momentum_path[s], 1e-6));
    }
    EXPECT(close(v, 1.355, 1e-6));
    p = 1.0f, v = 0.0f;
    const double nesterov_path[3] = {0.905, 0.7695, 0.59755};  // step = g + 0.9 v: 0.95, 1.355, 1.7195
    for (int s = 0; s < 3; ++s) {
        kiln_sgd_step_f32(g_ctx, &p, &g, &v, 1, 0.1f, 0.9f, 0.0f, 1);
        EXPECT(close(p, nesterov_path[s], 1e-6));
    }
    p = 1.0f;
    kiln_sgd_step_f32(g_ctx, &p, &g, nullptr, 1, 0.1f, 0.0f, 0.1f, 0);  // g + wd p = 0.6
    EXPECT(close(p, 0.94, 1e-7));
    // momentum 0 with a velocity buffer: the plain step, and the buffer is not touched.
    p = 1.0f, v = 42.0f;
    kiln_sgd_step_f32(g_ctx, &p, &g, &v, 1, 0.1f, 0.0f, 0.0f, 1);
    EXPECT(close(p, 0.95, 1e-7) && v == 42.0f);
}

// ---- Adam --------------------------------------------------------------------------------------------------------

struct AdamConfig {
    float lr, b1, b2, eps, wd;
    int decoupled;
};

void adam_vs_reference(const AdamConfig& c, size_t n) {
    std::vector<float> p = uniform(n, 2), m(n, 0.0f), v(n, 0.0f);
    std::vector<double> rp(p.begin(), p.end()), rm(n, 0.0), rv(n, 0.0);
    for (int t = 1; t <= 3; ++t) {
        const std::vector<float> g = uniform(n, 20 + t);
        // The caller computes the bias corrections; the reference uses the same float values.
        const float bc1 = (float)(1 - std::pow((double)c.b1, t)), bc2 = (float)(1 - std::pow((double)c.b2, t));
        EXPECT(kiln_adam_step_f32(g_ctx, p.data(), g.data(), m.data(), v.data(), (int64_t)n, c.lr, c.b1, c.b2, c.eps,
                                  c.wd, c.decoupled, bc1, bc2) == KILN_OK);
        for (size_t i = 0; i < n; ++i) {
            double gd = g[i];
            if (c.decoupled) rp[i] *= 1 - (double)c.lr * c.wd;
            else gd += (double)c.wd * rp[i];
            rm[i] = c.b1 * rm[i] + (1 - (double)c.b1) * gd;
            rv[i] = c.b2 * rv[i] + (1 - (double)c.b2) * gd * gd;
            rp[i] -= c.lr * (rm[i] / bc1) / (std::sqrt(rv[i] / bc2) + c.eps);
        }
    }
    int bad = 0;
    for (size_t i = 0; i < n; ++i) {
        bad += !close(p[i], rp[i], 1e-6 * (1 + std::fabs(rp[i])));
        // m and v are running sums of terms of either sign: their rounding is relative to the terms (|g| <= 1).
        bad += !close(m[i], rm[i], 5e-8 + 1e-6 * std::fabs(rm[i]));
        bad += !close(v[i], rv[i], 1e-10 + 1e-6 * std::fabs(rv[i]));
    }
    if (bad) std::printf("  adam decoupled=%d wd=%g n=%zu: %d mismatches\n", c.decoupled, c.wd, n, bad);
    EXPECT(bad == 0);
}

// p = 1, constant g = 0.5, lr = 0.1: with bias correction, m_hat / sqrt(v_hat) = 1 every step, so Adam moves by lr;
// AdamW first shrinks p by 1 - lr * wd = 0.99.
void adam_hand_computed() {
    const float g = 0.5f, b1 = 0.9f, b2 = 0.999f;
    const double adam_path[3] = {0.9, 0.8, 0.7};
    const double adamw_path[3] = {0.89, 0.7811, 0.673289};
    for (int decoupled : {0, 1}) {
        float p = 1.0f, m = 0.0f, v = 0.0f;
        for (int t = 1; t <= 3; ++t) {
            const float bc1 = 1.0f - std::pow(b1, (float)t), bc2 = 1.0f - std::pow(b2, (float)t);
            EXPECT(kiln_adam_step_f32(g_ctx, &p, &g, &m, &v, 1, 0.1f, b1, b2, 1e-8f, decoupled ? 0.1f : 0.0f,
                                      decoupled, bc1, bc2) == KILN_OK);
            EXPECT(close(p, (decoupled ? adamw_path : adam_path)[t - 1], 2e-6));
        }
        EXPECT(close(m, 0.5 * (1 - 0.9 * 0.9 * 0.9), 1e-7));        // 0.1355
        const double b2d = b2;  // the float 0.999f, as the step used it
        EXPECT(close(v, 0.25 * (1 - b2d * b2d * b2d), 1e-10));  // 0.000749250...
    }
}

// ---- capturable Adam ----------------------------------------------------------------------------------------------

// N capturable steps (the device-side counter and corrections) against N ordinary steps with the corrections the host
// computes by the same rule (dev.kiln.optim.Adam.biasCorrection is this loop in Java): bit for bit, since both run
// adam_update on identical floats and the corrections come from one text (kernels/common/optim_math.h).
float host_bias_correction(float beta, int64_t step) {
    double base = beta, power = 1.0;
    for (int64_t e = step; e > 0; e >>= 1) {
        if (e & 1) power *= base;
        base *= base;
    }
    return (float)(1.0 - power);
}

void capturable_equals_ordinary(const AdamConfig& c, size_t n, int steps) {
    std::vector<float> p1 = uniform(n, 3), m1(n, 0.0f), v1(n, 0.0f);
    std::vector<float> p2 = p1, m2 = m1, v2 = v1;
    int32_t counter = 0;
    float bc[2] = {0, 0};
    for (int step = 1; step <= steps; ++step) {
        const std::vector<float> g = uniform(n, 50 + step);
        EXPECT(kiln_adam_step_f32(g_ctx, p1.data(), g.data(), m1.data(), v1.data(), (int64_t)n, c.lr, c.b1, c.b2,
                                  c.eps, c.wd, c.decoupled, host_bias_correction(c.b1, step),
                                  host_bias_correction(c.b2, step)) == KILN_OK);
        EXPECT(kiln_adam_advance_step(g_ctx, &counter, bc, c.b1, c.b2) == KILN_OK);
        EXPECT(kiln_adam_step_capturable_f32(g_ctx, p2.data(), g.data(), m2.data(), v2.data(), (int64_t)n, c.lr, c.b1,
                                             c.b2, c.eps, c.wd, c.decoupled, bc) == KILN_OK);
    }
    EXPECT(counter == steps);
    EXPECT(bc[0] == host_bias_correction(c.b1, steps) && bc[1] == host_bias_correction(c.b2, steps));
    EXPECT(std::memcmp(p1.data(), p2.data(), n * 4) == 0 && std::memcmp(m1.data(), m2.data(), n * 4) == 0 &&
           std::memcmp(v1.data(), v2.data(), n * 4) == 0);
}

void bias_correction_rule() {
    // Against the closed form in long double: square-and-multiply in double is far inside float's rounding, so the
    // float result is within one ulp (equal except where 1 - beta^t sits next to a float tie).
    int off_by_more = 0;
    for (float beta : {0.0f, 0.5f, 0.8f, 0.9f, 0.99f, 0.999f, 0.9999f}) {
        for (int64_t t : {INT64_C(1), INT64_C(2), INT64_C(3), INT64_C(10), INT64_C(1000), INT64_C(123457),
                          INT64_C(2147483647)}) {
            const float want = (float)(1.0L - std::pow((long double)beta, (long double)t));
            const float got = host_bias_correction(beta, t);
            off_by_more += std::fabs(got - want) > std::nextafter(want, 2.0f) - want;
        }
    }
    EXPECT(off_by_more == 0);
    // The counter saturates at INT32_MAX, and a negative one counts as 0.
    int32_t counter = INT32_MAX;
    float bc[2] = {0, 0};
    EXPECT(kiln_adam_advance_step(g_ctx, &counter, bc, 0.9f, 0.999f) == KILN_OK);
    EXPECT(counter == INT32_MAX && bc[0] == 1.0f && bc[1] == 1.0f);
    counter = -7;
    EXPECT(kiln_adam_advance_step(g_ctx, &counter, bc, 0.9f, 0.999f) == KILN_OK);
    EXPECT(counter == 1 && bc[0] == host_bias_correction(0.9f, 1) && bc[1] == host_bias_correction(0.999f, 1));
    // Validation of the two entries.
    float p[4] = {0}, g[4] = {0}, m[4] = {0}, v[4] = {0};
    EXPECT(kiln_adam_advance_step(g_ctx, &counter, bc, 1.0f, 0.999f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_adam_advance_step") && message_has("beta1"));
    EXPECT(kiln_adam_advance_step(g_ctx, nullptr, bc, 0.9f, 0.999f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'step' is null"));
    EXPECT(kiln_adam_step_capturable_f32(g_ctx, p, g, m, v, 4, 0.1f, 0.9f, 0.999f, 1e-8f, 0, 0, nullptr) ==
           KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_adam_step_capturable_f32") && message_has("'bias_corrections' is null"));
    EXPECT(kiln_adam_step_capturable_f32(g_ctx, p, g, m, m, 4, 0.1f, 0.9f, 0.999f, 1e-8f, 0, 0, bc) ==
           KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'m' (") && message_has("and 'v' (") && message_has("overlap"));
}

// ---- validation --------------------------------------------------------------------------------------------------

void validation() {
    float p[4] = {0}, g[4] = {0}, m[4] = {0}, v[4] = {0};
    EXPECT(kiln_sgd_step_f32(g_ctx, p, g, nullptr, 4, 0.1f, 0.9f, 0, 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_sgd_step_f32") && message_has("'velocity' is null") && message_has("momentum=0.9"));
    EXPECT(kiln_sgd_step_f32(g_ctx, p, g, v, -1, 0.1f, 0.9f, 0, 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'n'"));
    EXPECT(kiln_sgd_step_f32(g_ctx, p, g, v, 4, 0.1f, -0.5f, 0, 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'momentum'"));
    EXPECT(kiln_sgd_step_f32(g_ctx, p, g, v, 4, NAN, 0.5f, 0, 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'lr'"));
    EXPECT(kiln_sgd_step_f32(g_ctx, p, p, v, 4, 0.1f, 0.5f, 0, 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("overlap"));
    // A partial overlap is refused too: the update reads grad and writes param in one restrict pass.
    float pg[5] = {0};
    EXPECT(kiln_sgd_step_f32(g_ctx, pg, pg + 1, v, 4, 0.1f, 0.5f, 0, 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'param' (16 bytes") && message_has("'grad' (16 bytes"));
    EXPECT(kiln_sgd_step_f32(g_ctx, pg, pg + 4, nullptr, 1, 0.1f, 0.0f, 0, 0) == KILN_OK);  // adjacent is not overlap
    EXPECT(kiln_sgd_step_f32(g_ctx, nullptr, g, v, 4, 0.1f, 0.5f, 0, 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'param' is null"));
    EXPECT(kiln_sgd_step_f32(g_ctx, nullptr, nullptr, nullptr, 0, 0.1f, 0.5f, 0, 0) == KILN_OK);  // empty
    EXPECT(kiln_adam_step_f32(g_ctx, p, g, m, v, 4, 0.1f, 1.0f, 0.999f, 1e-8f, 0, 0, 0.1f, 0.1f) ==
           KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_adam_step_f32") && message_has("beta1"));
    EXPECT(kiln_adam_step_f32(g_ctx, p, g, m, v, 4, 0.1f, 0.9f, 0.999f, 1e-8f, 0, 0, 0.0f, 0.1f) ==
           KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("bias_correction1=0"));
    EXPECT(kiln_adam_step_f32(g_ctx, p, g, m, v, 4, 0.1f, 0.9f, 0.999f, -1.0f, 0, 0, 0.1f, 0.1f) ==
           KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'eps'"));
    EXPECT(kiln_adam_step_f32(g_ctx, p, g, m, m, 4, 0.1f, 0.9f, 0.999f, 1e-8f, 0, 0, 0.1f, 0.1f) ==
           KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'m' (") && message_has("and 'v' (") && message_has("overlap"));
    EXPECT(kiln_adam_step_f32(g_ctx, p, g, nullptr, v, 4, 0.1f, 0.9f, 0.999f, 1e-8f, 0, 0, 0.1f, 0.1f) ==
           KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'m' is null"));
}

}  // namespace

int main() {
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &g_ctx) != KILN_OK) {
        std::printf("cannot create a CPU context: %s\n", kiln_last_error());
        return 1;
    }
    const SgdConfig sgds[] = {{0.1f, 0.0f, 0.0f, 0}, {0.1f, 0.0f, 1e-2f, 0}, {0.05f, 0.9f, 0.0f, 0},
                              {0.05f, 0.9f, 5e-3f, 0}, {0.05f, 0.9f, 0.0f, 1}, {0.05f, 0.8f, 1e-2f, 1}};
    const AdamConfig adams[] = {{1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f, 0}, {1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, 0},
                                {1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f, 1}, {1e-2f, 0.8f, 0.99f, 1e-6f, 5e-2f, 1}};
    for (size_t n : {size_t(1), size_t(7), size_t(33), size_t(257), size_t(100003)}) {
        for (const SgdConfig& c : sgds) sgd_vs_reference(c, n);
        for (const AdamConfig& c : adams) adam_vs_reference(c, n);
    }
    for (const AdamConfig& c : adams)
        for (size_t n : {size_t(1), size_t(33), size_t(100003)}) capturable_equals_ordinary(c, n, 25);
    bias_correction_rule();
    sgd_hand_computed();
    adam_hand_computed();
    validation();
    kiln_context_destroy(g_ctx);
    return kiln::test::finish("test_optim_cpu");
}

// Tests of the sampling entries on a CPU context, through the C ABI: the portable exp against double exp over its
// whole range, reparameterization against a double reference built on kiln_rand_normal_f32's stream (so the noise is
// the documented one), its sample mean and variance, both backwards against central finite differences of double
// references, the KL forward against a double sum, and the edge cases and validation.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "common/sampling_math.h"
#include "kiln/kiln.h"

using kiln::test::all_close;
using kiln::test::grad_matches;
using kiln::test::message_has;
using kiln::test::uniform;
using kiln::test::widen;

namespace {

kiln_context* g_ctx = nullptr;
constexpr uint64_t kSeed = 0x5eed, kOffset = 77;

std::vector<float> normals(size_t n, uint64_t seed, uint64_t offset) {
    std::vector<float> eps(n);
    EXPECT(kiln_rand_normal_f32(g_ctx, eps.data(), n, seed, offset, 0.0f, 1.0f) == KILN_OK);
    return eps;
}

// Distance in units in the last place between two finite floats of the same sign (or both zero).
double ulps(float got, double want) {
    const double ulp = std::fmax(std::ldexp(1.0, std::ilogb((float)want) - 23), std::ldexp(1.0, -149));
    return std::fabs((double)got - want) / ulp;
}

void portable_exp_is_within_two_ulps() {
    double worst = 0;
    float worst_x = 0;
    for (int i = 0; i <= 2000000; ++i) {  // every 1e-4 across [-103.9, 88.7], the subnormal tail included
        const float x = -103.9f + (float)i * (192.6f / 2000000.0f);
        const double want = std::exp((double)x);
        if (want > std::numeric_limits<float>::max()) continue;
        const double e = ulps(kiln::kiln_exp_portable(x), want);
        if (e > worst) worst = e, worst_x = x;
    }
    std::printf("  kiln_exp_portable: worst %.2f ulp at x = %.7g\n", worst, worst_x);
    EXPECT(worst <= 2.0);
    EXPECT(kiln::kiln_exp_portable(0.0f) == 1.0f);
    EXPECT(std::isinf(kiln::kiln_exp_portable(89.0f)) && kiln::kiln_exp_portable(89.0f) > 0);
    EXPECT(kiln::kiln_exp_portable(-104.0f) == 0.0f);
    EXPECT(std::isnan(kiln::kiln_exp_portable(std::numeric_limits<float>::quiet_NaN())));
    EXPECT(std::isinf(kiln::kiln_exp_portable(INFINITY)) && kiln::kiln_exp_portable(-INFINITY) == 0.0f);
}

void reparameterize_matches_its_definition(int64_t n) {
    const std::vector<float> mu = uniform(n, 1 + n, -2, 2), lv = uniform(n, 2 + n, -6, 3);
    const std::vector<float> eps = normals(n, kSeed, kOffset);
    std::vector<float> z(n, -1.0f);
    EXPECT(kiln_reparameterize_f32(g_ctx, mu.data(), lv.data(), z.data(), n, kSeed, kOffset) == KILN_OK);
    std::vector<double> want(n);
    for (int64_t i = 0; i < n; ++i) want[i] = mu[i] + std::exp(0.5 * lv[i]) * eps[i];
    EXPECT(all_close("z n=" + std::to_string(n), z, want, 3e-7, 1e-7));
    std::vector<float> again(mu);  // z may alias mu
    EXPECT(kiln_reparameterize_f32(g_ctx, again.data(), lv.data(), again.data(), n, kSeed, kOffset) == KILN_OK);
    EXPECT(std::memcmp(again.data(), z.data(), n * sizeof(float)) == 0);
}

// Per latent dimension d: z = mu_d + sigma_d eps has mean mu_d and variance sigma_d^2 (5 standard errors).
void reparameterize_has_the_right_moments() {
    const int dims = 4;
    const int64_t per_dim = 1 << 18, n = per_dim * dims;
    const float mu_d[dims] = {0.0f, 1.5f, -3.0f, 0.25f}, lv_d[dims] = {0.0f, 1.0f, -2.0f, 2.5f};
    std::vector<float> mu(n), lv(n), z(n);
    for (int64_t i = 0; i < n; ++i) mu[i] = mu_d[i % dims], lv[i] = lv_d[i % dims];
    EXPECT(kiln_reparameterize_f32(g_ctx, mu.data(), lv.data(), z.data(), n, 9, 0) == KILN_OK);
    for (int d = 0; d < dims; ++d) {
        double s = 0, s2 = 0;
        for (int64_t i = d; i < n; i += dims) s += z[i];
        const double mean = s / per_dim;
        for (int64_t i = d; i < n; i += dims) s2 += (z[i] - mean) * (z[i] - mean);
        const double var = s2 / (per_dim - 1), want_var = std::exp((double)lv_d[d]);
        const double se_mean = std::sqrt(want_var / per_dim), se_var = want_var * std::sqrt(2.0 / (per_dim - 1));
        std::printf("  dim %d: mean %.5f (want %.2f), variance %.5f (want %.5f)\n", d, mean, mu_d[d], var, want_var);
        EXPECT(std::fabs(mean - mu_d[d]) < 5 * se_mean);
        EXPECT(std::fabs(var - want_var) < 5 * se_var);
    }
}

// L = sum w z with eps held fixed by the counter: dL/dmu = w, dL/dlogvar = w sigma eps / 2.
void reparameterize_backward_matches_finite_differences(int64_t n) {
    const std::vector<float> mu = uniform(n, 3 + n, -1, 1), lv = uniform(n, 4 + n, -3, 2), w = uniform(n, 5 + n, -1, 1);
    const std::vector<float> eps = normals(n, kSeed, kOffset);
    std::vector<float> dmu(n), dlv(n);
    EXPECT(kiln_reparameterize_backward_f32(g_ctx, lv.data(), w.data(), dmu.data(), dlv.data(), n, kSeed, kOffset) ==
           KILN_OK);
    const std::vector<double> mu_d = widen(mu), lv_d = widen(lv);
    auto loss_of = [&](const std::vector<double>& m, const std::vector<double>& l) {
        double s = 0;
        for (int64_t i = 0; i < n; ++i) s += w[i] * (m[i] + std::exp(0.5 * l[i]) * eps[i]);
        return s;
    };
    EXPECT(grad_matches("dmu", [&](const std::vector<double>& m) { return loss_of(m, lv_d); }, mu_d, dmu));
    EXPECT(grad_matches("dlogvar", [&](const std::vector<double>& l) { return loss_of(mu_d, l); }, lv_d, dlv));
    std::vector<float> only(n, 123.0f);  // either output alone gives the same values
    EXPECT(kiln_reparameterize_backward_f32(g_ctx, lv.data(), w.data(), nullptr, only.data(), n, kSeed, kOffset) ==
           KILN_OK);
    EXPECT(std::memcmp(only.data(), dlv.data(), n * sizeof(float)) == 0);
    EXPECT(kiln_reparameterize_backward_f32(g_ctx, lv.data(), w.data(), only.data(), nullptr, n, kSeed, kOffset) ==
           KILN_OK);
    EXPECT(std::memcmp(only.data(), dmu.data(), n * sizeof(float)) == 0);
}

double ref_kl(const std::vector<double>& mu, const std::vector<double>& lv, int64_t batch) {
    double s = 0;
    for (size_t i = 0; i < mu.size(); ++i) s += -0.5 * (1 + lv[i] - mu[i] * mu[i] - std::exp(lv[i]));
    return s / batch;
}

void gaussian_kl_matches_references(int64_t batch, int64_t dim) {
    const int64_t n = batch * dim;
    const std::vector<float> mu = uniform(n, 6 + n, -2, 2), lv = uniform(n, 7 + n, -4, 2);
    float loss = -1;
    EXPECT(kiln_gaussian_kl_f32(g_ctx, mu.data(), lv.data(), &loss, batch, dim) == KILN_OK);
    const std::vector<double> mu_d = widen(mu), lv_d = widen(lv);
    const double want = ref_kl(mu_d, lv_d, batch);
    if (!(std::fabs(loss - want) <= 1e-6 * std::fabs(want) + 1e-6)) {
        std::printf("  kl (%lld, %lld): got %.9g, want %.9g\n", (long long)batch, (long long)dim, loss, want);
        EXPECT(false);
    }
    const float dloss = 1.7f;
    std::vector<float> dmu(n), dlv(n);
    EXPECT(kiln_gaussian_kl_backward_f32(g_ctx, mu.data(), lv.data(), &dloss, dmu.data(), dlv.data(), batch, dim) ==
           KILN_OK);
    EXPECT(grad_matches("kl dmu", [&](const std::vector<double>& m) { return dloss * ref_kl(m, lv_d, batch); }, mu_d,
                        dmu));
    EXPECT(grad_matches("kl dlogvar", [&](const std::vector<double>& l) { return dloss * ref_kl(mu_d, l, batch); },
                        lv_d, dlv));
}

void edge_cases_and_validation() {
    float loss = 0, x = 0.5f, y = 0;
    EXPECT(kiln_gaussian_kl_f32(g_ctx, nullptr, nullptr, &loss, 0, 3) == KILN_OK && std::isnan(loss));  // mean of none
    EXPECT(kiln_gaussian_kl_f32(g_ctx, nullptr, nullptr, &loss, 4, 0) == KILN_OK && loss == 0.0f);
    EXPECT(kiln_reparameterize_f32(g_ctx, nullptr, nullptr, nullptr, 0, 1, 0) == KILN_OK);
    EXPECT(kiln_reparameterize_f32(g_ctx, &x, nullptr, &y, 1, 1, 0) == KILN_ERR_INVALID_ARGUMENT && message_has("'logvar'"));
    EXPECT(kiln_reparameterize_f32(g_ctx, &x, &x, &y, -1, 1, 0) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("kiln_reparameterize_f32"));
    EXPECT(kiln_gaussian_kl_f32(g_ctx, &x, &x, &loss, INT64_C(1) << 40, INT64_C(1) << 40) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("batch"));
    EXPECT(kiln_gaussian_kl_f32(g_ctx, &x, &x, nullptr, 1, 1) == KILN_ERR_INVALID_ARGUMENT && message_has("'loss'"));
    EXPECT(kiln_gaussian_kl_backward_f32(g_ctx, &x, &x, nullptr, &y, &y, 1, 1) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("'dloss'"));
    EXPECT(kiln_reparameterize_f32(nullptr, &x, &x, &y, 1, 1, 0) == KILN_ERR_INVALID_ARGUMENT);
    // Huge logvar: sigma overflows to inf, as exp does; a NaN mean stays NaN.
    float big = 200.0f, nan = std::numeric_limits<float>::quiet_NaN(), z[2];
    const float mus[2] = {0.0f, nan}, lvs[2] = {big, 0.0f};
    EXPECT(kiln_reparameterize_f32(g_ctx, mus, lvs, z, 2, 3, 0) == KILN_OK && std::isinf(z[0]) && std::isnan(z[1]));
}

}  // namespace

int main() {
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &g_ctx) != KILN_OK) {
        std::printf("cannot create a CPU context: %s\n", kiln_last_error());
        return 1;
    }
    portable_exp_is_within_two_ulps();
    for (int64_t n : {1, 3, 4, 5, 257, 100003}) reparameterize_matches_its_definition(n);
    reparameterize_has_the_right_moments();
    for (int64_t n : {1, 7, 300}) reparameterize_backward_matches_finite_differences(n);
    gaussian_kl_matches_references(1, 1);
    gaussian_kl_matches_references(128, 20);
    gaussian_kl_matches_references(3, 50001);
    edge_cases_and_validation();
    kiln_context_destroy(g_ctx);
    return kiln::test::finish("test_sampling_cpu");
}

// Philox4x32-10 known-answer tests (Random123's published vectors) and accuracy of the shared float transforms.
#include <cmath>
#include <cstring>
#include <vector>

#include "check.h"
#include "common/philox.h"
#include "kiln/kiln.h"

using namespace kiln;

static bool block_equals(Philox4 got, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    return got.v[0] == a && got.v[1] == b && got.v[2] == c && got.v[3] == d;
}

static void known_answers() {
    EXPECT(block_equals(philox4x32_10({{0, 0, 0, 0}}, 0, 0), 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u));
    EXPECT(block_equals(philox4x32_10({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu),
                        0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu));
    EXPECT(block_equals(philox4x32_10({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u),
                        0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u));
}

static void transforms_are_accurate() {
    // log over (0, 1], the domain Box-Muller uses, against double precision.
    double worst_log = 0;
    for (uint32_t k = 1; k <= (1u << 24); k += 97) {
        const float x = (float)k * 0x1p-24f;
        const double ref = std::log((double)x);
        worst_log = std::fmax(worst_log, std::fabs(kiln_logf(x) - ref) / std::fmax(std::fabs(ref), 1e-30));
    }
    std::printf("kiln_logf worst relative error %.3g\n", worst_log);
    EXPECT(worst_log < 4e-7);
    double worst_trig = 0;
    for (uint32_t j = 0; j < (1u << 24); j += 101) {
        float c, s;
        kiln_sincos_turns24(j, &c, &s);
        const double angle = 2.0 * M_PI * (double)j * 0x1p-24;
        worst_trig = std::fmax(worst_trig, std::fmax(std::fabs(c - std::cos(angle)), std::fabs(s - std::sin(angle))));
    }
    std::printf("kiln_sincos worst absolute error %.3g\n", worst_trig);
    EXPECT(worst_trig < 3e-7);
    EXPECT(philox_uniform01(0u) == 0.0f);
    EXPECT(philox_uniform01(0xffffffffu) < 1.0f);
    EXPECT(philox_uniform_open0(0u) > 0.0f);
    EXPECT(philox_uniform_open0(0xffffffffu) == 1.0f);
}

// The ABI's CPU streams are exactly the shared math, and their moments are right.
static void abi_streams_match_the_math() {
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    const size_t n = 1 << 20;
    std::vector<float> normal(n), uniform(n);
    EXPECT(kiln_rand_normal_f32(ctx, normal.data(), n, 42, 7, 0.0f, 1.0f) == KILN_OK);
    EXPECT(kiln_rand_uniform_f32(ctx, uniform.data(), n, 42, 7, 0.0f, 1.0f) == KILN_OK);
    size_t mismatches = 0;
    for (size_t i = 0; i < n; i += 1021) {
        mismatches += normal[i] != philox_normal_at(42, 7, i, 0.0f, 1.0f);
        mismatches += uniform[i] != philox_uniform_at(42, 7, i, 0.0f, 1.0f);
    }
    EXPECT(mismatches == 0);
    double mean = 0, m2 = 0, m4 = 0, umean = 0;
    float umin = 1, umax = 0;
    for (size_t i = 0; i < n; ++i) {
        mean += normal[i];
        umean += uniform[i];
        umin = std::fmin(umin, uniform[i]);
        umax = std::fmax(umax, uniform[i]);
    }
    mean /= n;
    umean /= n;
    for (size_t i = 0; i < n; ++i) {
        const double d = normal[i] - mean;
        m2 += d * d;
        m4 += d * d * d * d;
    }
    m2 /= n;
    m4 /= n;
    std::printf("normal: mean %.5f var %.5f kurtosis %.4f; uniform: mean %.5f min %.3g max %.7f\n", mean, m2,
                m4 / (m2 * m2), umean, umin, umax);
    EXPECT(std::fabs(mean) < 0.005);       // 5 standard errors at n = 2^20
    EXPECT(std::fabs(m2 - 1.0) < 0.007);
    EXPECT(std::fabs(m4 / (m2 * m2) - 3.0) < 0.03);
    EXPECT(std::fabs(umean - 0.5) < 0.0015);
    EXPECT(umin >= 0.0f && umax < 1.0f);
    // A continued stream equals one long stream: offset counts Philox blocks of four values.
    std::vector<float> tail(1000);
    EXPECT(kiln_rand_normal_f32(ctx, tail.data(), tail.size(), 42, 7 + 1000 / 4, 0.0f, 1.0f) == KILN_OK);
    EXPECT(std::memcmp(tail.data(), normal.data() + 1000, sizeof(float) * tail.size()) == 0);
    kiln_context_destroy(ctx);
}

int main() {
    known_answers();
    transforms_are_accurate();
    abi_streams_match_the_math();
    return kiln::test::finish("test_philox");
}

// Tests of the bf16 conversion entries on a CPU context: fp32 -> bf16 over every one of the 2^32 fp32 bit patterns,
// through the C ABI and through each vector path this CPU has, against a reference of round-to-nearest-even computed
// in double from the two bf16 neighbours of each value (not from bf16.h's integer trick); bf16 -> fp32 over all 2^16
// patterns against the value its sign, exponent and mantissa fields denote; known answers; short and unaligned
// lengths (the vector tails) with guard elements; validation.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "check.h"
#include "cpu/convert_paths.h"
#include "kiln/kiln.h"

using kiln::cpu::convert_detail::Path;
using kiln::test::message_has;

// Under AddressSanitizer (native/test/sanitizers.sh) every 17th block of 2^16 inputs is enough to meet every
// exponent, sign and alignment; the plain build still runs all 2^32.
#if defined(__SANITIZE_ADDRESS__)
#define KILN_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KILN_TEST_SANITIZED 1
#endif
#endif
#ifndef KILN_TEST_SANITIZED
#define KILN_TEST_SANITIZED 0
#endif

namespace {

kiln_context* g_ctx = nullptr;
constexpr uint32_t kBlockStep = KILN_TEST_SANITIZED ? 17 : 1;

float from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

uint32_t bits_of(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

// The expected bf16 of every fp32 whose upper 16 bits are `high` (low bits 0 .. 65535), into want[65536].
// Finite values: the bf16 grid near |x| has spacing q (2^(E-134) in binade E, 2^-133 among bf16 subnormals); lo is
// the grid point at or below |x|, hi = lo + q; the nearer one wins, a tie goes to the even multiple of q; a result of
// 2^128 or more is past the largest finite bf16 and becomes infinity. NaN: quiet, sign and upper payload kept.
void reference_block(uint32_t high, uint16_t* want) {
    const uint32_t exponent = (high >> 7) & 0xffu;
    const uint16_t sign = (uint16_t)(high & 0x8000u);
    const double q = std::ldexp(1.0, exponent == 0 ? -133 : (int)exponent - 134);
    for (uint32_t low = 0; low < 65536; ++low) {
        const uint32_t u = high << 16 | low;
        if (exponent == 0xff) {
            const bool nan = (u & 0x7fffffu) != 0;
            want[low] = nan ? (uint16_t)(high | 0x40u) : (uint16_t)high;
            continue;
        }
        const double x = std::fabs((double)from_bits(u));
        const double k = std::floor(x / q);  // exact: q is a power of two
        const double lo = k * q, hi = lo + q;
        const double below = x - lo, above = hi - x;  // exact in double
        const double pick = below < above ? lo : above < below ? hi : (std::fmod(k, 2.0) == 0.0 ? lo : hi);
        const uint32_t r = pick >= 0x1p128 ? 0x7f800000u : bits_of((float)pick);
        if ((r & 0xffffu) != 0) std::printf("  reference bug at 0x%08x\n", u);
        want[low] = (uint16_t)(sign | (r >> 16));
    }
}

// One converter under test over the 65536 inputs of a block.
using Convert = void (*)(const float* x, kiln_bf16* y, int64_t n);

struct Tested {
    const char* name;
    Convert fn;
    std::atomic<uint64_t> mismatches{0};
    std::atomic<uint32_t> first{0xffffffffu};
};

void via_abi(const float* x, kiln_bf16* y, int64_t n) {
    if (kiln_convert_f32_to_bf16(g_ctx, x, y, n) != KILN_OK) std::memset(y, 0xff, (size_t)n * 2);
}
void via_portable(const float* x, kiln_bf16* y, int64_t n) {
    kiln::cpu::convert_detail::f32_to_bf16_span(Path::Portable, x, y, n);
}
void via_avx512(const float* x, kiln_bf16* y, int64_t n) {
    kiln::cpu::convert_detail::f32_to_bf16_span(Path::Avx512, x, y, n);
}
void via_avx512bf16(const float* x, kiln_bf16* y, int64_t n) {
    kiln::cpu::convert_detail::f32_to_bf16_span(Path::Avx512Bf16, x, y, n);
}

void every_fp32_rounds_to_nearest_even() {
    std::vector<Tested*> tested;
    Tested abi{"C ABI", via_abi}, portable{"portable", via_portable}, avx512{"avx512", via_avx512},
        avx512bf16{"avx512_bf16", via_avx512bf16};
    tested.push_back(&abi);
    tested.push_back(&portable);
    if (kiln::cpu::convert_detail::available(Path::Avx512)) tested.push_back(&avx512);
    else std::printf("  avx512 path: SKIPPED (this CPU lacks AVX-512)\n");
    if (kiln::cpu::convert_detail::available(Path::Avx512Bf16)) tested.push_back(&avx512bf16);
    else std::printf("  avx512_bf16 path: SKIPPED (this CPU lacks AVX512_BF16)\n");

    const unsigned threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
    std::atomic<uint32_t> next{0};
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            std::vector<float> x(65536);
            std::vector<uint16_t> want(65536), got(65536);
            for (uint32_t high; (high = next.fetch_add(kBlockStep)) < 65536;) {
                for (uint32_t low = 0; low < 65536; ++low) x[low] = from_bits(high << 16 | low);
                reference_block(high, want.data());
                for (Tested* c : tested) {
                    c->fn(x.data(), got.data(), 65536);
                    if (std::memcmp(got.data(), want.data(), sizeof(uint16_t) * 65536) == 0) continue;
                    for (uint32_t low = 0; low < 65536; ++low) {
                        if (got[low] == want[low]) continue;
                        c->mismatches.fetch_add(1);
                        uint32_t u = high << 16 | low, seen = c->first.load();
                        while (u < seen && !c->first.compare_exchange_weak(seen, u)) {
                        }
                    }
                }
            }
        });
    }
    for (std::thread& t : pool) t.join();
    for (Tested* c : tested) {
        std::printf("  f32 -> bf16, %s, %s: %llu mismatches\n", kBlockStep == 1 ? "all 2^32 inputs" : "every 17th block",
                    c->name, (unsigned long long)c->mismatches.load());
        if (c->mismatches.load() != 0) {
            const uint32_t u = c->first.load();
            uint16_t want[65536];
            reference_block(u >> 16, want);
            std::printf("    first at 0x%08x: want 0x%04x\n", u, want[u & 0xffffu]);
        }
        EXPECT(c->mismatches.load() == 0);
    }
}

void every_bf16_widens_exactly() {
    std::vector<uint16_t> x(65536);
    for (uint32_t b = 0; b < 65536; ++b) x[b] = (uint16_t)b;
    std::vector<float> got(65536), got_vec(65536);
    EXPECT(kiln_convert_bf16_to_f32(g_ctx, x.data(), got.data(), 65536) == KILN_OK);
    const bool avx512 = kiln::cpu::convert_detail::available(Path::Avx512);
    if (avx512) kiln::cpu::convert_detail::avx512_bf16_to_f32(x.data(), got_vec.data(), 65536);
    uint64_t bad = 0;
    for (uint32_t b = 0; b < 65536; ++b) {
        const uint32_t exponent = (b >> 7) & 0xffu, mantissa = b & 0x7fu;
        const bool negative = (b & 0x8000u) != 0;
        bool ok;
        if (exponent == 0xff && mantissa != 0) {  // NaN: the very bits, payload and all
            ok = bits_of(got[b]) == b << 16;
        } else {
            const double magnitude = exponent == 0xff ? INFINITY
                                     : exponent == 0 ? std::ldexp((double)mantissa, -133)
                                                     : std::ldexp((double)(128 + mantissa), (int)exponent - 134);
            const double want = negative ? -magnitude : magnitude;
            ok = (double)got[b] == want && std::signbit(got[b]) == negative;
        }
        if (avx512) ok = ok && bits_of(got_vec[b]) == bits_of(got[b]);
        if (!ok && bad++ == 0) std::printf("  bf16 0x%04x widened to 0x%08x\n", b, bits_of(got[b]));
    }
    std::printf("  bf16 -> f32, all 2^16 inputs: %llu mismatches%s\n", (unsigned long long)bad,
                avx512 ? " (C ABI and avx512 path)" : "");
    EXPECT(bad == 0);
}

void known_answers() {
    struct Case {
        uint32_t in;
        uint16_t out;
    };
    const Case cases[] = {
        {0x3f800000u, 0x3f80},  // 1
        {0x3f808000u, 0x3f80},  // 1 + 2^-8: a tie, to the even 1
        {0x3f818000u, 0x3f82},  // 1 + 3 2^-8: a tie, to the even 1 + 2^-6
        {0x3f808001u, 0x3f81},  // just past the tie
        {0x3f807fffu, 0x3f80},  // just before it
        {0xbf808001u, 0xbf81},  // the same, negative
        {0x00000000u, 0x0000},  // +0
        {0x80000000u, 0x8000},  // -0 keeps its sign
        {0x00000001u, 0x0000},  // the smallest fp32 subnormal rounds to 0
        {0x00008000u, 0x0000},  // a tie between 0 and the smallest bf16 subnormal: to 0
        {0x00018000u, 0x0002},  // a tie between two subnormals: to the even one
        {0x00010000u, 0x0001},  // the smallest bf16 subnormal itself
        {0x007fffffu, 0x0080},  // the largest fp32 subnormal rounds up to the smallest normal
        {0x7f7f7fffu, 0x7f7f},  // just below the halfway point past the largest finite bf16
        {0x7f7f8000u, 0x7f80},  // the halfway point: ties to even, which is infinity
        {0x7f7fffffu, 0x7f80},  // FLT_MAX overflows to infinity
        {0xff7fffffu, 0xff80},  // -FLT_MAX to -infinity
        {0x7f800000u, 0x7f80},  // +inf
        {0xff800000u, 0xff80},  // -inf
        {0x7fc00000u, 0x7fc0},  // the quiet NaN
        {0x7f800001u, 0x7fc0},  // a signalling NaN whose payload is all below bit 16: quiet NaN, not infinity
        {0x7fa00000u, 0x7fe0},  // a signalling NaN: made quiet, payload kept
        {0xffffffffu, 0xffff},  // a negative NaN stays negative
        {0x40490fdbu, 0x4049},  // pi
        {0x3dcccccdu, 0x3dcd},  // 0.1
    };
    int bad = 0;
    for (const Case& c : cases) {
        const float x = from_bits(c.in);
        kiln_bf16 y = 0;
        EXPECT(kiln_convert_f32_to_bf16(g_ctx, &x, &y, 1) == KILN_OK);
        if (y != c.out) {
            ++bad;
            std::printf("  0x%08x -> 0x%04x, want 0x%04x\n", c.in, y, c.out);
        }
    }
    EXPECT(bad == 0);
}

// Every length up to 70 at every offset up to 16 elements, so the 16-lane paths meet every tail and alignment; the
// guard elements around the output must stay untouched.
void tails_and_offsets() {
    constexpr int kGuard = 8;
    std::vector<float> x(200);
    for (size_t i = 0; i < x.size(); ++i) x[i] = from_bits(0x3f800000u + (uint32_t)(i * 0x9e3779u % 0x10000u) + (uint32_t)i);
    int bad = 0;
    for (int off = 0; off < 16; ++off) {
        for (int n = 1; n <= 70; ++n) {
            std::vector<uint16_t> y(n + 16 + 2 * kGuard, 0xabcd), want(n);
            kiln::cpu::convert_detail::f32_to_bf16_span(Path::Portable, x.data() + off, want.data(), n);
            EXPECT(kiln_convert_f32_to_bf16(g_ctx, x.data() + off, y.data() + kGuard + off, n) == KILN_OK);
            for (int i = 0; i < (int)y.size(); ++i) {
                const bool inside = i >= kGuard + off && i < kGuard + off + n;
                if (inside ? y[i] != want[i - kGuard - off] : y[i] != 0xabcd) ++bad;
            }
            std::vector<float> back(n + 16 + 2 * kGuard, -7.0f);
            EXPECT(kiln_convert_bf16_to_f32(g_ctx, y.data() + kGuard + off, back.data() + kGuard + off, n) == KILN_OK);
            for (int i = 0; i < (int)back.size(); ++i) {
                const bool inside = i >= kGuard + off && i < kGuard + off + n;
                if (inside ? bits_of(back[i]) != (uint32_t)want[i - kGuard - off] << 16 : back[i] != -7.0f) ++bad;
            }
        }
    }
    std::printf("  tails and offsets: %d wrong or overwritten elements\n", bad);
    EXPECT(bad == 0);
}

// A size large enough to split across the pool: the same bits as one portable span.
void large_sizes_split_across_the_pool() {
    const int64_t n = (1 << 20) + 13;
    std::vector<float> x((size_t)n);
    uint64_t s = 42;
    for (float& v : x) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        v = from_bits((uint32_t)(s >> 32));
    }
    std::vector<uint16_t> got((size_t)n), want((size_t)n);
    EXPECT(kiln_convert_f32_to_bf16(g_ctx, x.data(), got.data(), n) == KILN_OK);
    kiln::cpu::convert_detail::f32_to_bf16_span(Path::Portable, x.data(), want.data(), n);
    EXPECT(got == want);
}

void validation() {
    float x[2] = {1.0f, 2.0f};
    kiln_bf16 y[2] = {0, 0};
    float back[2] = {0, 0};
    EXPECT(kiln_convert_f32_to_bf16(nullptr, x, y, 2) != KILN_OK);
    EXPECT(kiln_convert_bf16_to_f32(nullptr, y, back, 2) != KILN_OK);
    EXPECT(kiln_convert_f32_to_bf16(g_ctx, x, y, -1) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_convert_f32_to_bf16") && message_has("n"));
    EXPECT(kiln_convert_bf16_to_f32(g_ctx, y, back, -3) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_convert_f32_to_bf16(g_ctx, nullptr, y, 2) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'x'"));
    EXPECT(kiln_convert_f32_to_bf16(g_ctx, x, nullptr, 2) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'y'"));
    EXPECT(kiln_convert_bf16_to_f32(g_ctx, nullptr, back, 2) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_convert_bf16_to_f32(g_ctx, y, nullptr, 2) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_convert_f32_to_bf16(g_ctx, x, y, INT64_MAX) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_convert_bf16_to_f32(g_ctx, y, back, INT64_MAX / 2) == KILN_ERR_INVALID_ARGUMENT);
    // n == 0 touches nothing, so null pointers are fine.
    EXPECT(kiln_convert_f32_to_bf16(g_ctx, nullptr, nullptr, 0) == KILN_OK);
    EXPECT(kiln_convert_bf16_to_f32(g_ctx, nullptr, nullptr, 0) == KILN_OK);
    // Nothing was written by the refused calls.
    EXPECT(y[0] == 0 && y[1] == 0 && back[0] == 0 && back[1] == 0);
}

}  // namespace

int main() {
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &g_ctx) != KILN_OK) {
        std::printf("cannot create a CPU context: %s\n", kiln_last_error());
        return 1;
    }
    known_answers();
    every_bf16_widens_exactly();
    tails_and_offsets();
    large_sizes_split_across_the_pool();
    validation();
    every_fp32_rounds_to_nearest_even();
    kiln_context_destroy(g_ctx);
    return kiln::test::finish("test_convert_cpu");
}

// Parity cases for the bf16 conversion family, bit-exact: fp32 -> bf16 over ties, subnormals, overflow and NaN
// payloads plus random values, and bf16 -> fp32 over all 65536 bit patterns. Each direction runs aligned (the kernel's
// 4-wide vector instantiation) and shifted by one element (the scalar one). Where NaN payloads must match too, the
// output is declared as int32 words holding the bf16 or fp32 bits, which the harness compares byte for byte.
#include <cstdint>
#include <cstring>
#include <string>

#include "parity/harness.h"

namespace kiln::parity {
namespace {

float from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// n fp32 inputs: every special pattern first (ties to even both ways, subnormals, the overflow boundary, infinities,
// quiet and signalling NaNs with payloads and signs), then values over many binades.
std::vector<float> probes(size_t n, uint32_t seed) {
    static const uint32_t kSpecial[] = {
        0x3f800000u, 0x3f808000u, 0x3f818000u, 0x3f808001u, 0x3f807fffu, 0xbf808001u, 0x00000000u, 0x80000000u,
        0x00000001u, 0x00008000u, 0x00018000u, 0x007fffffu, 0x80400000u, 0x7f7f7fffu, 0x7f7f8000u, 0x7f7fffffu,
        0xff7fffffu, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7f800001u, 0x7fa00000u, 0xffffffffu, 0xff812345u};
    std::vector<float> v = host_uniform(n, seed, -1.0f, 1.0f);
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; ++i) {
        s = s * 1664525u + 1013904223u;
        if (i < sizeof kSpecial / sizeof kSpecial[0]) v[i] = from_bits(kSpecial[i]);
        else if (i % 3 == 0) v[i] = from_bits(s);  // any bit pattern: every binade, NaNs now and then
        else v[i] *= (float)(1u << (s >> 27));     // up to 2^31
    }
    return v;
}

// fp32 -> bf16 of n probes starting `off` elements in; the output once as bf16 (compared widened) and once as raw
// bits in int32 words.
void add_f32_to_bf16(std::vector<OpCase>& cases, int64_t n, int off) {
    const std::string shape = "n=" + std::to_string(n) + (off ? " +" + std::to_string(off) : "");
    const std::vector<float> x = probes((size_t)(n + off), (uint32_t)n + 11);
    const size_t len = (size_t)(n + off);
    cases.push_back({"convert_f32_to_bf16", shape, 0.0, {in_f32(x), out_bf16(len)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_convert_f32_to_bf16(ctx, (const float*)p[0] + off, (kiln_bf16*)p[1] + off, n);
                     }});
    cases.push_back({"convert_f32_to_bf16", shape + " bits", 0.0, {in_f32(x), out_i32((len + 1) / 2)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_convert_f32_to_bf16(ctx, (const float*)p[0] + off, (kiln_bf16*)p[1] + off, n);
                     }});
}

// bf16 -> fp32 of every bf16 bit pattern (two per int32 word of the input), the fp32 bits compared exactly; and of
// rounded random values through the harness's bf16 inputs.
void add_bf16_to_f32(std::vector<OpCase>& cases, int off) {
    std::vector<int32_t> words(32768 + 1);
    for (uint32_t i = 0; i < 32768; ++i) words[i] = (int32_t)((2 * i) | (2 * i + 1) << 16);
    words[32768] = (int32_t)0x7f81ffc1u;  // two more NaNs, for the shifted case's last elements
    const int64_t n = 65536;
    const std::string shape = "all 65536 patterns" + std::string(off ? " +" + std::to_string(off) : "");
    cases.push_back({"convert_bf16_to_f32", shape, 0.0, {in_i32(words), out_i32((size_t)(n + off))},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_convert_bf16_to_f32(ctx, (const kiln_bf16*)p[0] + off, (float*)p[1] + off, n);
                     }});
    for (int64_t m : {1, 3, 4, 5, 1000, 100003}) {
        const std::vector<float> x = host_uniform((size_t)(m + off), (uint32_t)m + 5, -300.0f, 300.0f);
        cases.push_back({"convert_bf16_to_f32", "n=" + std::to_string(m) + (off ? " +" + std::to_string(off) : ""),
                         0.0, {in_bf16(x), out_f32((size_t)(m + off))},
                         [=](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_convert_bf16_to_f32(ctx, (const kiln_bf16*)p[0] + off, (float*)p[1] + off, m);
                         }});
    }
}

std::vector<OpCase> convert_cases() {
    std::vector<OpCase> cases;
    for (int64_t n : {1, 3, 4, 5, 24, 1000, 100003, (1 << 20) + 3}) add_f32_to_bf16(cases, n, 0);
    for (int64_t n : {7, 100003}) add_f32_to_bf16(cases, n, 1);  // x + 1 is not 16-byte aligned: the scalar kernel
    add_bf16_to_f32(cases, 0);
    add_bf16_to_f32(cases, 1);  // x + 1 is not 8-byte aligned: the scalar kernel
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("convert", convert_cases);
}  // namespace kiln::parity

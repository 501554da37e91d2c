// Philox4x32-10 counter-based RNG (Salmon et al., SC'11) and the float transforms built on it, written once for
// the CPU backend and the CUDA kernels. Every step is integer math or an IEEE-exact float op from numerics.h, and
// log/sin/cos are our own polynomials rather than libm/CUDA intrinsics, so the same (seed, counter) yields the
// same bits on every backend.
#pragma once

#include "numerics.h"

namespace kiln {

struct Philox4 { uint32_t v[4]; };

KILN_HD Philox4 philox4x32_10(Philox4 ctr, uint32_t k0, uint32_t k1) {
    const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;  // round multipliers
    const uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;  // Weyl key increments
    for (int round = 0; round < 10; ++round) {
        if (round > 0) { k0 += W0; k1 += W1; }
        const uint32_t hi0 = kiln_mulhi_u32(M0, ctr.v[0]), lo0 = M0 * ctr.v[0];
        const uint32_t hi1 = kiln_mulhi_u32(M1, ctr.v[2]), lo1 = M1 * ctr.v[2];
        ctr = Philox4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
    }
    return ctr;
}

// The block for stream position `counter` under `seed`: the 64-bit counter fills the low two words.
KILN_HD Philox4 philox_block(uint64_t seed, uint64_t counter) {
    Philox4 c{{(uint32_t)counter, (uint32_t)(counter >> 32), 0u, 0u}};
    return philox4x32_10(c, (uint32_t)seed, (uint32_t)(seed >> 32));
}

// [0, 1) with 24 random bits: every value is exactly representable.
KILN_HD float philox_uniform01(uint32_t x) { return kiln_fmul((float)(x >> 8), 0x1p-24f); }

// (0, 1]: safe to take the log of.
KILN_HD float philox_uniform_open0(uint32_t x) { return kiln_fmul((float)((x >> 8) + 1u), 0x1p-24f); }

// Natural log for normal positive floats, |error| ~1 ulp: x = m * 2^e with m in [sqrt(1/2), sqrt(2)),
// log(m) = 2 atanh(s) with s = (m-1)/(m+1), as an odd series in s.
KILN_HD float kiln_logf(float x) {
    uint32_t bits = kiln_float_to_bits(x);
    int e = (int)((bits >> 23) & 0xffu) - 127;
    float m = kiln_bits_to_float((bits & 0x007fffffu) | 0x3f800000u);  // [1, 2)
    if (m > 1.41421356f) { m = kiln_fmul(m, 0.5f); e += 1; }
    const float f = kiln_fadd(m, -1.0f);  // exact (Sterbenz)
    const float s = kiln_fdiv(f, kiln_fadd(2.0f, f));
    const float z = kiln_fmul(s, s);
    float p = kiln_fma(z, 0.22222222f, 0.28571429f);  // 2/9, 2/7
    p = kiln_fma(z, p, 0.4f);                         // 2/5
    p = kiln_fma(z, p, 0.66666667f);                  // 2/3
    const float log_m = kiln_fma(kiln_fmul(s, z), p, kiln_fmul(2.0f, s));
    const float ln2_hi = 0.693145752f, ln2_lo = 1.42860677e-06f;  // ln2_hi has few bits: e*ln2_hi is exact
    return kiln_fadd(kiln_fma((float)e, ln2_hi, kiln_fma((float)e, ln2_lo, 0.0f)), log_m);
}

// cos and sin of 2*pi*j/2^24 for j in [0, 2^24): quadrant split in integers, then Taylor polynomials on
// [-pi/4, pi/4] where the truncation error is below float precision.
KILN_HD void kiln_sincos_turns24(uint32_t j, float* c_out, float* s_out) {
    const uint32_t q = (j + (1u << 21)) >> 22;               // nearest quarter turn, 0..4
    const float r = (float)((int32_t)j - (int32_t)(q << 22)); // |r| <= 2^21, exact
    const float a = kiln_fmul(kiln_fmul(r, 0x1p-22f), 1.57079633f);
    const float a2 = kiln_fmul(a, a);
    float sp = kiln_fma(a2, 2.75573192e-06f, -1.98412698e-04f);
    sp = kiln_fma(a2, sp, 8.33333333e-03f);
    sp = kiln_fma(a2, sp, -1.66666667e-01f);
    const float sn = kiln_fma(kiln_fmul(a, a2), sp, a);
    float cp = kiln_fma(a2, -2.75573192e-07f, 2.48015873e-05f);
    cp = kiln_fma(a2, cp, -1.38888889e-03f);
    cp = kiln_fma(a2, cp, 4.16666667e-02f);
    cp = kiln_fma(a2, cp, -0.5f);
    const float cs = kiln_fma(a2, cp, 1.0f);
    // Quadrant q turns (cos, sin) into (cs, sn), (-sn, cs), (-cs, -sn), (sn, -cs): selects rather than a switch, so
    // a CPU loop over many draws vectorizes (negation is exact: the same bits either way).
    const uint32_t quad = q & 3u;
    const float c = (quad & 1u) ? sn : cs, s = (quad & 1u) ? cs : sn;
    *c_out = (quad == 1u || quad == 2u) ? -c : c;
    *s_out = quad >= 2u ? -s : s;
}

// Box-Muller on two words: two independent standard normals.
KILN_HD void philox_box_muller(uint32_t x0, uint32_t x1, float* z0, float* z1) {
    const float radius = kiln_fsqrt(kiln_fmul(-2.0f, kiln_logf(philox_uniform_open0(x0))));
    float c, s;
    kiln_sincos_turns24(x1 >> 8, &c, &s);
    *z0 = kiln_fmul(radius, c);
    *z1 = kiln_fmul(radius, s);
}

// Block `block` of a uniform stream in [lo, hi): its elements 4 block + j, j < 4, from word j of Philox block
// (offset + block). Backends fill a stream block by block: one Philox evaluation per 4 values.
KILN_HD void philox_uniform_block4(uint64_t seed, uint64_t offset, uint64_t block, float lo, float hi, float out[4]) {
    const Philox4 b = philox_block(seed, offset + block);
    for (int j = 0; j < 4; ++j) {
        const float y = kiln_fma(philox_uniform01(b.v[j]), kiln_fadd(hi, -lo), lo);
        out[j] = y < hi ? y : lo;  // rounding can land on hi for tiny ranges; keep the interval half-open
    }
}

// Block `block` of a normal stream: Philox block (offset + block) gives two Box-Muller pairs (words 0,1 and 2,3),
// elements 4 block + 0..3.
KILN_HD void philox_normal_block4(uint64_t seed, uint64_t offset, uint64_t block, float mean, float std,
                                  float out[4]) {
    const Philox4 b = philox_block(seed, offset + block);
    float z[4];
    philox_box_muller(b.v[0], b.v[1], &z[0], &z[1]);
    philox_box_muller(b.v[2], b.v[3], &z[2], &z[3]);
    for (int j = 0; j < 4; ++j) out[j] = kiln_fma(z[j], std, mean);
}

// Element i of each stream alone (tests and one-off draws): its block's value i % 4.
KILN_HD float philox_uniform_at(uint64_t seed, uint64_t offset, uint64_t i, float lo, float hi) {
    float v[4];
    philox_uniform_block4(seed, offset, i / 4, lo, hi, v);
    return v[i % 4];
}
KILN_HD float philox_normal_at(uint64_t seed, uint64_t offset, uint64_t i, float mean, float std) {
    float v[4];
    philox_normal_block4(seed, offset, i / 4, mean, std, v);
    return v[i % 4];
}

}  // namespace kiln

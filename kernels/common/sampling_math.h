// Math of the sampling family shared by native/src/cpu/sampling.cpp and kernels/sampling.cu: an exp built only from
// correctly rounded float operations (so both backends give the same bits, which expf does not promise), the four
// standard normals of one Philox block, and the reparameterization and Gaussian-KL terms and their gradients.
#pragma once

#include <cstdint>

#include "common/numerics.h"
#include "common/philox.h"

namespace kiln {

// exp(x) to about 1 ulp, the same bits on every backend: x = k ln2 + r with |r| <= ln2/2 (Cody-Waite, ln2 split in
// a high part with few bits and a low part), exp(r) by its degree-7 Taylor polynomial (truncation < 0.1 ulp on that
// interval) in Horner form on fma, then 2^k applied as two exact power-of-two factors so that results down in the
// subnormal range round once at most per factor.
// Branch-free: the polynomial runs on an argument clamped into range (NaN replaced by 0, so the integer conversion
// below is always defined) and the special cases are selected at the end. A CPU loop calling it then vectorizes;
// with early returns GCC kept the reparameterization's loop scalar, about 20 cycles per element. In-range arguments
// take exactly the operations they took before, so the bits are unchanged.
KILN_HD float kiln_exp_portable(float x) {
    const bool nan = !(x == x);
    const bool over = x > 88.7228394f;     // past ln(FLT_MAX): +inf
    const bool under = x < -103.972084f;   // below half the smallest subnormal: 0
    const float xc = nan ? 0.0f : over ? 88.7228394f : under ? -103.972084f : x;
    const float magic = 12582912.0f;                                // 1.5 * 2^23: adding it rounds to an integer
    const float kf = kiln_fadd(kiln_fma(xc, 1.44269504f, magic), -magic);
    const int32_t k = (int32_t)kf;
    float r = kiln_fma(-kf, 0.693145752f, xc);  // 0.693145752 has 16 significant bits: k * it is exact
    r = kiln_fma(-kf, 1.42860677e-06f, r);
    float p = 1.98412698e-04f;                 // 1/7!
    p = kiln_fma(p, r, 1.38888889e-03f);       // 1/6!
    p = kiln_fma(p, r, 8.33333333e-03f);       // 1/5!
    p = kiln_fma(p, r, 4.16666667e-02f);       // 1/4!
    p = kiln_fma(p, r, 1.66666667e-01f);       // 1/3!
    p = kiln_fma(p, r, 0.5f);
    p = kiln_fma(p, r, 1.0f);
    p = kiln_fma(p, r, 1.0f);
    const int32_t k1 = k / 2, k2 = k - k1;  // each in [-75, 64]: 2^k1 and 2^k2 are normal floats
    const float s1 = kiln_bits_to_float((uint32_t)(k1 + 127) << 23);
    const float s2 = kiln_bits_to_float((uint32_t)(k2 + 127) << 23);
    const float y = kiln_fmul(kiln_fmul(p, s1), s2);
    return nan ? kiln_fadd(x, x) : over ? kiln_bits_to_float(0x7f800000u) : under ? 0.0f : y;  // NaN stays NaN
}

// The four standard normals of Philox block `block` (counter offset + block): element 4 block + j of the stream
// kiln_rand_normal_f32 draws with mean 0 and std 1 (kernels/common/philox.h), bit for bit.
KILN_HD void philox_normal4(uint64_t seed, uint64_t offset, uint64_t block, float out[4]) {
    philox_normal_block4(seed, offset, block, 0.0f, 1.0f, out);
}

// ---- reparameterization: z = mu + sigma eps, sigma = exp(logvar / 2) ------------------------------------------
KILN_HD float reparam_sigma(float logvar) { return kiln_exp_portable(kiln_fmul(0.5f, logvar)); }
KILN_HD float reparam_z(float mu, float logvar, float eps) { return kiln_fma(reparam_sigma(logvar), eps, mu); }
// dz/dlogvar = sigma eps / 2.
KILN_HD float reparam_dlogvar(float dz, float logvar, float eps) {
    return kiln_fmul(kiln_fmul(dz, 0.5f), kiln_fmul(reparam_sigma(logvar), eps));
}

// ---- KL(N(mu, exp(logvar)) || N(0, 1)) per element: -(1 + logvar - mu^2 - exp(logvar)) / 2 ---------------------
KILN_HD float gaussian_kl_term(float mu, float logvar) {
    const float inner = kiln_fadd(kiln_fadd(kiln_fadd(1.0f, logvar), -kiln_fmul(mu, mu)), -kiln_exp_portable(logvar));
    return kiln_fmul(-0.5f, inner);
}
// With scale = dloss / batch: d/dmu = scale mu, d/dlogvar = scale (exp(logvar) - 1) / 2.
KILN_HD float gaussian_kl_dmu(float mu, float scale) { return kiln_fmul(scale, mu); }
KILN_HD float gaussian_kl_dlogvar(float logvar, float scale) {
    return kiln_fmul(kiln_fmul(scale, 0.5f), kiln_fadd(kiln_exp_portable(logvar), -1.0f));
}

}  // namespace kiln

// Parity cases for the sampling family: reparameterization forward and backward (float4 and misaligned paths, each
// output alone), bit-exact since both backends run the same fp32 operations (kernels/common/sampling_math.h) on the
// same Philox stream; the KL forward (one and many partial blocks) with a summation-order tolerance, its backward exact.
#include <string>

#include "parity/harness.h"

namespace kiln::parity {
namespace {

constexpr double kSumTol = 1e-10;
constexpr uint64_t kSeed = 1234567, kOffset = 99;

// off shifts every pointer by that many floats: 1 leaves the float4 path for the scalar one.
void add_reparameterize(std::vector<OpCase>& cases, int64_t n, int off) {
    const std::string shape = "n=" + std::to_string(n) + (off ? " +" + std::to_string(off) : "");
    const std::vector<float> mu = host_uniform((size_t)(n + off), (uint32_t)n, -2.0f, 2.0f);
    const std::vector<float> lv = host_uniform((size_t)(n + off), (uint32_t)n + 1, -5.0f, 3.0f);
    const std::vector<float> dz = host_uniform((size_t)(n + off), (uint32_t)n + 2, -1.0f, 1.0f);
    const size_t len = (size_t)(n + off);
    cases.push_back({"reparameterize", shape, 0.0, {in_f32(mu), in_f32(lv), out_f32(len)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_reparameterize_f32(ctx, (const float*)p[0] + off, (const float*)p[1] + off,
                                                        (float*)p[2] + off, n, kSeed, kOffset);
                     }});
    cases.push_back({"reparameterize_backward", shape, 0.0, {in_f32(lv), in_f32(dz), out_f32(len), out_f32(len)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_reparameterize_backward_f32(ctx, (const float*)p[0] + off, (const float*)p[1] + off,
                                                                 (float*)p[2] + off, (float*)p[3] + off, n, kSeed,
                                                                 kOffset);
                     }});
    if (off) return;
    cases.push_back({"reparameterize_backward", shape + " dlogvar only", 0.0, {in_f32(lv), in_f32(dz), out_f32(len)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_reparameterize_backward_f32(ctx, (const float*)p[0], (const float*)p[1], nullptr,
                                                                 (float*)p[2], n, kSeed, kOffset);
                     }});
}

// off: mu, logvar and the gradients start that many floats into their buffers (1: misaligned for float4).
void add_kl(std::vector<OpCase>& cases, int64_t batch, int64_t dim, int off = 0) {
    std::string shape = "(" + std::to_string(batch) + "," + std::to_string(dim) + ")";
    if (off) shape += " at +" + std::to_string(off);
    const size_t n = (size_t)(batch * dim), len = n + (size_t)off;
    const std::vector<float> mu = host_uniform(len, (uint32_t)n + 3, -2.0f, 2.0f);
    const std::vector<float> lv = host_uniform(len, (uint32_t)n + 4, -4.0f, 2.0f);
    cases.push_back({"gaussian_kl", shape, kSumTol, {in_f32(mu), in_f32(lv), out_f32(1)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_gaussian_kl_f32(ctx, (const float*)p[0] + off, (const float*)p[1] + off,
                                                     (float*)p[2], batch, dim);
                     }});
    cases.push_back({"gaussian_kl_backward", shape, 0.0,
                     {in_f32(mu), in_f32(lv), in_f32({0.8f}), out_f32(len), out_f32(len)},
                     [=](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_gaussian_kl_backward_f32(ctx, (const float*)p[0] + off, (const float*)p[1] + off,
                                                              (const float*)p[2], (float*)p[3] + off,
                                                              (float*)p[4] + off, batch, dim);
                     }});
}

std::vector<OpCase> sampling_cases() {
    std::vector<OpCase> cases;
    for (int64_t n : {1, 3, 4, 5, 2560, 100003}) add_reparameterize(cases, n, 0);
    add_reparameterize(cases, 100003, 1);
    add_reparameterize(cases, 6, 3);
    add_kl(cases, 1, 1);
    add_kl(cases, 128, 20);      // the VAE's shape: one partial block
    add_kl(cases, 1000, 1000);   // 62 partial blocks
    add_kl(cases, 3, 7);
    add_kl(cases, 1000, 1000, 1);
    add_kl(cases, 3, 7, 3);
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("sampling", sampling_cases);
}  // namespace kiln::parity

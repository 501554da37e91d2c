// Parity cases for fill, the Philox streams and dropout: bit-identical across backends (tolerance 0; dropout's
// mask comes from the same Philox words on both).
#include "parity/harness.h"

namespace kiln::parity {
namespace {

void add_dropout_cases(std::vector<OpCase>& cases) {
    for (size_t n : {size_t(1), size_t(7), size_t(33), size_t(257), size_t(100003)}) {
        const std::vector<float> x = host_uniform(n, 51), dy = host_uniform(n, 52);
        for (float p : {0.0f, 0.3f}) {
            const std::string shape = "n=" + std::to_string(n) + " p=" + (p == 0.0f ? "0" : "0.3");
            cases.push_back({"dropout", shape, 0.0, {in_f32(x), out_f32(n)},
                             [n, p](kiln_context* ctx, const std::vector<void*>& a) {
                                 return kiln_dropout_f32(ctx, (const float*)a[0], (float*)a[1], (int64_t)n, p, 77, 9);
                             }});
            cases.push_back({"dropout_backward", shape, 0.0, {in_f32(dy), out_f32(n)},
                             [n, p](kiln_context* ctx, const std::vector<void*>& a) {
                                 return kiln_dropout_backward_f32(ctx, (const float*)a[0], (float*)a[1], (int64_t)n, p,
                                                                  77, 9);
                             }});
        }
    }
    // Buffers one float off 16-byte alignment (the GPU's scalar path), an offset past 2^32, and in place.
    const size_t n = 4099;
    cases.push_back({"dropout", "n=4099 p=0.5 unaligned offset=2^33+3", 0.0,
                     {in_f32(host_uniform(n + 1, 53)), out_f32(n + 1)},
                     [n](kiln_context* ctx, const std::vector<void*>& a) {
                         return kiln_dropout_f32(ctx, (const float*)a[0] + 1, (float*)a[1] + 1, (int64_t)n, 0.5f,
                                                 0xFEEDull << 32, (1ull << 33) + 3);
                     }});
    cases.push_back({"dropout", "n=4099 p=0.3 in-place", 0.0, {inout_f32(host_uniform(n, 54))},
                     [n](kiln_context* ctx, const std::vector<void*>& a) {
                         return kiln_dropout_f32(ctx, (const float*)a[0], (float*)a[0], (int64_t)n, 0.3f, 5, 0);
                     }});
}

std::vector<OpCase> random_cases() {
    std::vector<OpCase> cases;
    for (size_t n : {size_t(1), size_t(7), size_t(4099), size_t(1000003)}) {
        const std::string shape = "n=" + std::to_string(n);
        cases.push_back({"fill", shape, 0.0, {out_f32(n)}, [n](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_fill_f32(ctx, (float*)p[0], n, -2.5f);
                         }});
        cases.push_back({"rand_uniform", shape + " offset=5", 0.0, {out_f32(n)},
                         [n](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_rand_uniform_f32(ctx, (float*)p[0], n, 1234, 5, -3.0f, 2.0f);
                         }});
        cases.push_back({"rand_normal", shape + " offset=2^40", 0.0, {out_f32(n)},
                         [n](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_rand_normal_f32(ctx, (float*)p[0], n, 0xDEADBEEFCAFEull, 1ull << 40, 0.5f, 2.0f);
                         }});
    }
    add_dropout_cases(cases);
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("random", random_cases);
}  // namespace kiln::parity

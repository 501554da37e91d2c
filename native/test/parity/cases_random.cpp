// Parity cases for fill and the Philox streams: bit-identical across backends (tolerance 0).
#include "parity/harness.h"

namespace kiln::parity {
namespace {

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
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("random", random_cases);
}  // namespace kiln::parity

// Parity cases for GEMM: every transpose combination, odd and training-sized shapes, beta != 0 (C read and
// written), padded leading dimensions, strided batches, and products that multiply nothing (C = beta * C).
#include <cmath>
#include <string>
#include <vector>

#include "parity/harness.h"

namespace kiln::parity {
namespace {

struct Shape {
    int64_t m, n, k;
};

OpCase gemm_case(Shape s, bool ta, bool tb, float beta, int64_t batch, int64_t pad) {
    // Stored shapes with `pad` extra columns of leading dimension.
    const int64_t a_rows = ta ? s.k : s.m, a_cols = ta ? s.m : s.k;
    const int64_t b_rows = tb ? s.n : s.k, b_cols = tb ? s.k : s.n;
    const int64_t lda = a_cols + pad, ldb = b_cols + pad, ldc = s.n + pad;
    const int64_t sa = a_rows * lda, sb = b_rows * ldb, sc = s.m * ldc;
    kiln_gemm_desc d{ta, tb, s.m, s.n, s.k, lda, ldb, ldc, batch, sa, sb, sc, 0.75f, beta};
    std::string shape = "m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k) +
                        (ta ? " tA" : "") + (tb ? " tB" : "") + (beta != 0 ? " beta" : "") +
                        (batch > 1 ? " batch=" + std::to_string(batch) : "") + (pad ? " ld+" + std::to_string(pad) : "");
    const uint32_t seed = (uint32_t)(s.m * 131 + s.n * 17 + s.k);
    Arg c = beta != 0 ? inout_f32(host_uniform(sc * batch, seed + 2)) : out_f32(sc * batch);
    // Padding columns of C are never written; an Out buffer would keep its NaN pattern there on both backends,
    // which compares equal, so pads are covered either way.
    return OpCase{"gemm", shape, 1e-9,
                  {in_f32(host_uniform(sa * batch, seed)), in_f32(host_uniform(sb * batch, seed + 1)), c},
                  [d](kiln_context* ctx, const std::vector<void*>& p) {
                      return kiln_gemm_f32(ctx, &d, (const float*)p[0], (const float*)p[1], (float*)p[2]);
                  }};
}

// Products that multiply nothing (K == 0, or alpha == 0): C = beta * C on both backends, as BLAS has it, bit for bit.
// C holds -0s, which beta == 1 must leave alone (beta * C + 0 would make them +0), and an infinite alpha times an
// empty sum must not become NaN.
OpCase scale_only_case(int64_t k, float alpha, float beta, int64_t batch) {
    const int64_t m = 9, n = 13, ldc = n + 2, sc = m * ldc;
    kiln_gemm_desc d{false, false, m, n, k, k > 0 ? k : 1, n, ldc, batch, m * k, k * n, sc, alpha, beta};
    std::vector<float> c = host_uniform(sc * batch, 77);
    for (size_t i = 0; i < c.size(); i += 5) c[i] = -0.0f;
    const std::string shape = "m=9 n=13 k=" + std::to_string(k) + " alpha=" + std::to_string(alpha) + " beta=" +
                              std::to_string(beta) + (batch > 1 ? " batch=" + std::to_string(batch) : "");
    return OpCase{"gemm", shape, 0.0,
                  {in_f32(host_uniform(m * k * batch, 78)), in_f32(host_uniform(k * n * batch, 79)), inout_f32(c)},
                  [d](kiln_context* ctx, const std::vector<void*>& p) {
                      return kiln_gemm_f32(ctx, &d, (const float*)p[0], (const float*)p[1], (float*)p[2]);
                  }};
}

std::vector<OpCase> gemm_cases() {
    std::vector<OpCase> cases;
    for (Shape s : {Shape{1, 1, 1}, Shape{7, 33, 257}, Shape{33, 65, 17}, Shape{64, 256, 784}, Shape{128, 128, 128},
                    Shape{257, 7, 33}})
        for (int t = 0; t < 4; ++t) cases.push_back(gemm_case(s, t & 1, t & 2, 0.0f, 1, 0));
    cases.push_back(gemm_case({64, 10, 256}, false, true, 1.0f, 1, 0));
    cases.push_back(gemm_case({31, 45, 29}, true, false, 0.5f, 1, 3));
    cases.push_back(gemm_case({17, 19, 23}, false, false, 0.0f, 3, 0));
    cases.push_back(gemm_case({28, 256, 64}, true, true, 1.0f, 4, 1));
    cases.push_back(gemm_case({1000, 1, 300}, false, false, 0.0f, 1, 0));  // matrix-vector
    for (float beta : {0.0f, 0.5f, 1.0f}) {
        cases.push_back(scale_only_case(0, INFINITY, beta, 1));
        cases.push_back(scale_only_case(17, 0.0f, beta, 2));
    }
    cases.push_back(scale_only_case(0, 1.0f, 0.5f, 3));
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("gemm", gemm_cases);
}  // namespace kiln::parity

// The vector spans of the CPU's BCE with logits (cpu/vec_rows.h, built per ISA in loss_avx512.cpp and loss_avx2.cpp),
// called by loss.cpp (the entries are declared in kernels/loss.h, its kiln::cpu block) where bce_spans() has a set;
// elsewhere loss.cpp runs the scalar terms of kernels/common/softmax_math.h. Each lane within a few ulp of the scalar
// term: the vector exp and log1p of cpu/vec_math.h stand in for glibc's (the scalar path's per-element expf and
// log1pf cost 8x the rest of a VAE's loss).
#pragma once

#include <cstdint>

namespace kiln::cpu {

struct BceSpans {
    // The sum of the terms in double, in a fixed order for a given span.
    double (*sum)(const float* x, const float* t, int64_t n);
    // dx[i] = (sigmoid(x[i]) - t[i]) * scale.
    void (*grad)(const float* x, const float* t, float scale, float* dx, int64_t n);
};
namespace avx512 {
extern const BceSpans kBceSpans;
}
namespace avx2 {
extern const BceSpans kBceSpans;
}
// The spans of this CPU's widest ISA (isa()), or nullptr where it has neither AVX-512 nor AVX2.
const BceSpans* bce_spans();

}  // namespace kiln::cpu

// The vector rows of the CPU's 2x2 stride-2 max pooling (cpu/vec_pool.h, built per ISA in pool_avx512.cpp and
// pool_avx2.cpp) that pool.cpp takes where they apply, and the switch tests use to turn them off. The entries are
// declared in kernels/pool.h (its kiln::cpu block).
#pragma once

#include <cstdint>

namespace kiln::cpu {

struct Pool2x2Rows {
    // 2x2 stride-2 unpadded max pooling, one output row: x0 and x1 are input rows 2 oh and 2 oh + 1 (base0 and base1
    // their offsets in the plane, for the indices), y and index the row's q outputs.
    void (*max_row)(const float* x0, const float* x1, int64_t q, int32_t base0, int32_t base1, float* y,
                    int32_t* index);
    // Its backward for one output row: assigns input columns [0, 2 q) of dx rows dx0 and dx1.
    void (*max_backward_row)(const float* dy, const int32_t* index, int64_t q, int32_t base0, int32_t base1,
                             float* dx0, float* dx1);
};
namespace avx512 {
extern const Pool2x2Rows kPool2x2Rows;
}
namespace avx2 {
extern const Pool2x2Rows kPool2x2Rows;
}

namespace pool_detail {
// Makes later calls take the generic loops even where the vector rows apply (true), so tests can compare the two.
void force_generic_for_testing(bool on);
}  // namespace pool_detail

}  // namespace kiln::cpu

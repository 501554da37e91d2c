// CPU twin of kernels/elementwise.cu.
#pragma once

#include <cstddef>

namespace kiln::cpu {

void fill_f32(float* y, size_t n, float value);  // y is (n)

}  // namespace kiln::cpu

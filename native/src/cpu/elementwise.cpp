// Elementwise ops on the CPU.
#include "cpu/elementwise.h"

#include "cpu/parallel.h"

namespace kiln::cpu {

void fill_f32(float* y, size_t n, float value) {
    parallel_for((int64_t)n, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) y[i] = value;
    }, 1 << 16);
}

}  // namespace kiln::cpu

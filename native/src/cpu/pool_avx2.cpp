// The 2x2 max-pooling rows (cpu/vec_pool.h) on AVX2's 8 lanes. Built with -mavx2 -mfma (CMakeLists.txt, *_avx2.cpp).
#include "cpu/avx2_math.h"
#include "cpu/pool_simd.h"
#include "cpu/vec_pool.h"

namespace kiln::cpu::avx2 {

const Pool2x2Rows kPool2x2Rows = {VecPool2x2<Lanes>::max_row, VecPool2x2<Lanes>::max_backward_row};

}  // namespace kiln::cpu::avx2

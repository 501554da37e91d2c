// The 2x2 max-pooling rows (cpu/vec_pool.h) on AVX-512's 16 lanes. Built with the AVX-512 flags (CMakeLists.txt,
// *_avx512.cpp).
#include "cpu/avx512_math.h"
#include "cpu/pool_simd.h"
#include "cpu/vec_pool.h"

namespace kiln::cpu::avx512 {

const Pool2x2Rows kPool2x2Rows = {VecPool2x2<Lanes>::max_row, VecPool2x2<Lanes>::max_backward_row};

}  // namespace kiln::cpu::avx512

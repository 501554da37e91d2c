// The softmax family's vector row spans (cpu/vec_rows.h) on AVX-512's 16 lanes. Built with the AVX-512 flags
// (CMakeLists.txt, *_avx512.cpp).
#include "cpu/avx512_math.h"
#include "cpu/reduce_rows.h"
#include "cpu/vec_rows.h"

namespace kiln::cpu::avx512 {

using Rows = VecRows<Lanes>;
const RowSpans kRowSpans = {Rows::sum, Rows::dot, Rows::sum_exp_shifted, Rows::exp_shifted,
                            Rows::cross_entropy_grad_row};

}  // namespace kiln::cpu::avx512

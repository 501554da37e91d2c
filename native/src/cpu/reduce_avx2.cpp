// The softmax family's vector row spans (cpu/vec_rows.h) on AVX2's 8 lanes. Built with -mavx2 -mfma (CMakeLists.txt,
// *_avx2.cpp).
#include "cpu/avx2_math.h"
#include "cpu/reduce_rows.h"
#include "cpu/vec_rows.h"

namespace kiln::cpu::avx2 {

using Rows = VecRows<Lanes>;
const RowSpans kRowSpans = {Rows::sum, Rows::dot, Rows::sum_exp_shifted, Rows::exp_shifted,
                            Rows::cross_entropy_grad_row};

}  // namespace kiln::cpu::avx2

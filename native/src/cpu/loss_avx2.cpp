// BCE with logits' vector spans (cpu/vec_rows.h) on AVX2's 8 lanes. Built with -mavx2 -mfma (CMakeLists.txt,
// *_avx2.cpp).
#include "cpu/avx2_math.h"
#include "cpu/loss_simd.h"
#include "cpu/vec_rows.h"

namespace kiln::cpu::avx2 {

const BceSpans kBceSpans = {VecRows<Lanes>::bce_logits_sum, VecRows<Lanes>::bce_logits_grad};

}  // namespace kiln::cpu::avx2

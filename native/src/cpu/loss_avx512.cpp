// BCE with logits' vector spans (cpu/vec_rows.h) on AVX-512's 16 lanes. Built with the AVX-512 flags
// (CMakeLists.txt, *_avx512.cpp).
#include "cpu/avx512_math.h"
#include "cpu/loss_simd.h"
#include "cpu/vec_rows.h"

namespace kiln::cpu::avx512 {

const BceSpans kBceSpans = {VecRows<Lanes>::bce_logits_sum, VecRows<Lanes>::bce_logits_grad};

}  // namespace kiln::cpu::avx512

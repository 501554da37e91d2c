// The vector activations (cpu/vec_activations.h) on AVX2's 8 lanes, for CPUs with AVX2 and FMA but no AVX-512. Built
// with -mavx2 -mfma (CMakeLists.txt, *_avx2.cpp).
#include "cpu/avx2_math.h"
#include "cpu/elementwise_simd.h"
#include "cpu/vec_activations.h"

namespace kiln::cpu::avx2 {

using Spans = VecActivations<Lanes>;
const ActivationSpans kActivationSpans = {Spans::gelu, Spans::gelu_backward, Spans::tanh, Spans::sigmoid};

}  // namespace kiln::cpu::avx2

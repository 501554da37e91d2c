// The vector activations (cpu/vec_activations.h) on AVX-512's 16 lanes. Built with the AVX-512 flags (CMakeLists.txt,
// *_avx512.cpp).
#include "cpu/avx512_math.h"
#include "cpu/elementwise_simd.h"
#include "cpu/vec_activations.h"

namespace kiln::cpu::avx512 {

using Spans = VecActivations<Lanes>;
const ActivationSpans kActivationSpans = {Spans::gelu, Spans::gelu_backward, Spans::tanh, Spans::sigmoid};

}  // namespace kiln::cpu::avx512

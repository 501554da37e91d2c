// Which kernels and algorithm the CPU conv2d runs, and the switches tests and benchmarks use to choose them. The
// entries are declared in kernels/conv2d.h (its kiln::cpu block), the kernels' contracts in cpu/conv2d_kernels.h.
#pragma once

#include "common/conv_geometry.h"
#include "cpu/conv2d_winograd.h"

namespace kiln::cpu {

// Which backward-weight micro-kernel the runtime dispatch picked ("avx512" or "baseline"), for the benchmark.
const char* conv2d_isa();

namespace conv2d_detail {
// Makes every later call use the portable kernels (true) or the dispatched ones again (false), so the tests cover
// the code a machine without AVX-512 runs. Not for use while conv calls are in flight.
void force_baseline_for_testing(bool on);
// Which 3x3 stride-1 layers take the Winograd path: none (off: every layer on the implicit GEMM), those where the
// ISA's measurements say it pays (the default unless KILN_CONV_WINOGRAD=0), or every one it can compute (so tests
// run the transforms on small layers too). Not for use while conv calls are in flight.
enum class WinogradUse { off, where_it_pays, wherever_it_applies };
void set_winograd_for_testing(WinogradUse use);
// The algorithm direction d of this shape runs now: "winograd" or "implicit-gemm".
const char* conv2d_algorithm(const conv::Geometry& g, winograd::Direction d);
}  // namespace conv2d_detail

}  // namespace kiln::cpu

// CPU 2-D convolution (NCHW fp32): the entry points, the per-ISA kernel choice, and the algorithm choice between the
// implicit GEMM (conv2d_gemm.cpp, every shape) and Winograd F(2x2, 3x3) (conv2d_winograd.cpp, 3x3 stride-1 layers
// where the CPU has AVX-512 or AVX2, unless KILN_CONV_WINOGRAD=0). Also the portable (SSE2 / scalar) instances of the
// conv's tiles, which machines without AVX2 run (conv2d_avx2.cpp has AVX2's). Conventions: all three directions
// assign their outputs; results do not depend on the thread count.
#include "conv2d.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "cpu/conv2d_kernels.h"
#include "cpu/conv2d_paths.h"
#include "cpu/conv2d_winograd.h"
#include "common/kernel_path.h"
#include "cpu/sgemm.h"
#include "cpu/simd.h"

namespace kiln::cpu {

namespace conv2d_detail {
namespace {

#if defined(__SSE2__)
using BaselineTile = WgradTile<simd::Baseline, 4, 2>;  // 8 accumulators + 2 B + 1 A of 16 xmm
using BaselineDot = DotTile<simd::Baseline, 2, 1>;      // 2 x 1 x 4 accumulators (a 16-position group is 4 xmm)
#else
using BaselineTile = WgradTile<simd::Baseline, 4, 4>;
using BaselineDot = DotTile<simd::Baseline, 2, 1>;
#endif

}  // namespace

const WgradKernels& baseline_wgrad() {
    static const WgradKernels k{"baseline", 4, BaselineTile::NR, BaselineTile::tile,
                                pack_b_portable<BaselineTile::NR>, pack_a_row_portable<4>};
    return k;
}

const DotKernels* baseline_dot(int* count) {
    static const DotKernels k[] = {{2, 1, BaselineDot::tile}};
    *count = 1;
    return k;
}

}  // namespace conv2d_detail

namespace {

using conv::Geometry;
using conv2d_detail::ConvKernels;

void baseline_add_to(float* dst, const float* src, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// For each of `rows` rows: dst[row * ldd + run.dst + i] = src[row * lds + run.src + i] + bias[row] (bias may be NULL)
// for i < run.n, over the (src, dst, n) triples in runs. dst may equal src.
void baseline_copy_runs(const float* src, int64_t lds, float* dst, int64_t ldd, int64_t rows, const float* bias,
                        const int64_t* runs, int64_t nruns) {
    for (int64_t r = 0; r < rows; ++r) {
        const float b = bias ? bias[r] : 0.0f;
        for (int64_t u = 0; u < nruns; ++u) {
            const float* s = src + r * lds + runs[3 * u];
            float* d = dst + r * ldd + runs[3 * u + 1];
            for (int64_t i = 0; i < runs[3 * u + 2]; ++i) d[i] = s[i] + b;
        }
    }
}

ConvKernels baseline_conv_kernels() {
    ConvKernels i{&gemm_detail::baseline_kernels(), nullptr, &conv2d_detail::baseline_wgrad(), nullptr, 0,
          baseline_copy_runs, baseline_add_to, nullptr};
    i.dot = conv2d_detail::baseline_dot(&i.ndot);
    return i;
}

ConvKernels pick_conv_kernels() {
    if (isa() == Isa::Avx512) {
        ConvKernels i{&conv2d_detail::avx512_conv_gemm(), &conv2d_detail::avx512_conv_gemm_narrow(),
                      &conv2d_detail::avx512_wgrad(), nullptr, 0, conv2d_detail::avx512_copy_runs,
                      conv2d_detail::avx512_add_to, &winograd::avx512_kernels()};
        i.dot = conv2d_detail::avx512_dot(&i.ndot);
        return i;
    }
    ConvKernels i = baseline_conv_kernels();
    if (isa() == Isa::Avx2) {  // the GEMM's own AVX2 tile for forward and backward-data; AVX2 backward-weight tiles
        i.gemm = &gemm_detail::avx2_kernels();
        i.wgrad = &conv2d_detail::avx2_wgrad();
        i.dot = conv2d_detail::avx2_dot(&i.ndot);
        i.wino = &winograd::avx2_kernels();
    }
    return i;
}

std::atomic<bool> g_force_baseline{false};

using conv2d_detail::WinogradUse;
using winograd::Direction;

// KILN_CONV_WINOGRAD=0 keeps every layer on the implicit GEMM (bit-for-bit the direct sum's rounding pattern).
WinogradUse winograd_from_env() {
    const char* v = std::getenv("KILN_CONV_WINOGRAD");
    return v && v[0] == '0' && v[1] == '\0' ? WinogradUse::off : WinogradUse::where_it_pays;
}
std::atomic<WinogradUse> g_winograd{winograd_from_env()};

// The Winograd transforms for direction d of the layer where the ISA has them, the switch allows, the layer is 3x3
// stride 1 and (unless tests ask for every such layer) the ISA's measurements say it pays; else NULL.
const winograd::Kernels* winograd_for(const ConvKernels& is, const Geometry& g, Direction d) {
    const WinogradUse use = g_winograd.load(std::memory_order_relaxed);
    if (!is.wino || use == WinogradUse::off || !winograd::applies(g, d)) return nullptr;
    return use == WinogradUse::wherever_it_applies || winograd::pays(*is.wino, g, d) ? is.wino : nullptr;
}

const ConvKernels& kernels() {
    static const ConvKernels dispatched = pick_conv_kernels();
    static const ConvKernels baseline = baseline_conv_kernels();
    return g_force_baseline.load(std::memory_order_relaxed) ? baseline : dispatched;
}

}  // namespace

void conv2d_forward_f32(const Geometry& g, const float* x, const float* w, const float* bias, float* y) {
    if (conv::y_size(g) == 0) return;
    const ConvKernels& is = kernels();
    if (const winograd::Kernels* wk = winograd_for(is, g, Direction::forward)) {
        note_kernel_path("winograd");
        return winograd::forward(*wk, *is.gemm, g, x, w, bias, y);
    }
    note_kernel_path("implicit_gemm");
    conv2d_detail::gemm_forward(is, g, x, w, bias, y);
}

void conv2d_backward_data_f32(const Geometry& g, const float* dy, const float* w, float* dx) {
    if (conv::x_size(g) == 0) return;
    const ConvKernels& is = kernels();
    if (const winograd::Kernels* wk = winograd_for(is, g, Direction::data)) {
        note_kernel_path("winograd");
        return winograd::backward_data(*wk, *is.gemm, g, dy, w, dx);
    }
    note_kernel_path("implicit_gemm");
    conv2d_detail::gemm_backward_data(is, g, dy, w, dx);
}

void conv2d_backward_weight_f32(const Geometry& g, const float* x, const float* dy, float* dw, float* dbias) {
    if (conv::w_size(g) == 0) return;
    if (g.n == 0) {  // an empty batch has zero gradients, not untouched ones
        std::fill(dw, dw + conv::w_size(g), 0.0f);
        if (dbias) std::fill(dbias, dbias + g.k, 0.0f);
        return;
    }
    const ConvKernels& is = kernels();
    if (const winograd::Kernels* wk = winograd_for(is, g, Direction::weight)) {
        note_kernel_path("winograd");
        return winograd::backward_weight(*wk, *is.wgrad, g, x, dy, dw, dbias);
    }
    note_kernel_path("implicit_gemm");
    conv2d_detail::gemm_backward_weight(is, g, x, dy, dw, dbias);
}

uint64_t conv2d_workspace_bytes(const Geometry& g) {
    // An empty batch: every direction returns before taking scratch (and the layouts below would divide by its zero
    // item groups).
    if (g.n == 0 || (conv::y_size(g) == 0 && conv::w_size(g) == 0)) return 0;
    const ConvKernels& is = kernels();
    // Each direction takes the blocks of the algorithm it runs, never the other's.
    const bool fwd = winograd_for(is, g, Direction::forward), data = winograd_for(is, g, Direction::data);
    const bool weight = winograd_for(is, g, Direction::weight);
    const int64_t most = std::max(conv2d_detail::gemm_workspace_floats(is, g, !fwd, !data, !weight),
                                  winograd::workspace_floats(*is.gemm, *is.wgrad, g, fwd, data, weight));
    return static_cast<uint64_t>(most) * sizeof(float);
}

const char* conv2d_isa() { return kernels().wgrad->isa; }

namespace conv2d_detail {
void force_baseline_for_testing(bool on) { g_force_baseline.store(on); }
void set_winograd_for_testing(WinogradUse use) { g_winograd.store(use); }
const char* conv2d_algorithm(const conv::Geometry& g, winograd::Direction d) {
    return winograd_for(kernels(), g, d) ? "winograd" : "implicit-gemm";
}
}  // namespace conv2d_detail

}  // namespace kiln::cpu

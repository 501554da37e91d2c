// Index math of 2-D convolution (NCHW, cross-correlation), shared by the CPU backend (native/src/cpu/conv2d.cpp)
// and the CUDA kernels (kernels/conv2d.cu), so both read one text of "which input pixel does tap (r, s) of output
// (oh, ow) see" and "which outputs does input (ih, iw) feed". Integer only: nothing here touches a float.
#pragma once

#include <stdint.h>

#include <type_traits>

#include "numerics.h"

namespace kiln::conv {

// One convolution's sizes: x (n, c, h, w), w (k, c, r, s), y (n, k, p, q). Plain data, same on host and device.
struct Geometry {
    int64_t n, c, h, w;
    int64_t k, r, s;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t dilation_h, dilation_w;
    int64_t p, q;
};

// Floor division for a positive divisor b and any a (C++ '/' truncates toward zero, which is wrong for a < 0).
KILN_HD int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
KILN_HD int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// Output extent along one axis: (in + 2 pad - dilation (ker - 1) - 1) / stride + 1 with floor division, so a
// window that does not fit anywhere gives <= 0 (the caller rejects that), never a rounded-up 1.
KILN_HD int64_t output_extent(int64_t in, int64_t ker, int32_t stride, int32_t pad, int32_t dilation) {
    return floor_div(in + 2 * (int64_t)pad - (int64_t)dilation * (ker - 1) - 1, stride) + 1;
}

// Input coordinate seen by output index o through tap t along one axis; it may fall in the padding (< 0 or >= in).
KILN_HD int64_t input_index(int64_t o, int64_t t, int32_t stride, int32_t pad, int32_t dilation) {
    return o * stride - pad + t * dilation;
}

// The outputs o in [lo, hi) of an axis with `out` outputs whose tap t lands inside [0, in): the padding-free run.
// The CPU im2col copies that run and writes zeros around it instead of testing every element.
KILN_HD void valid_outputs(int64_t in, int64_t out, int64_t t, int32_t stride, int32_t pad, int32_t dilation,
                           int64_t* lo, int64_t* hi) {
    const int64_t off = t * dilation - pad;  // input = o * stride + off
    int64_t a = off >= 0 ? 0 : ceil_div(-off, stride);
    int64_t b = floor_div(in - 1 - off, stride) + 1;
    if (b > out) b = out;
    if (a > out) a = out;
    if (b < a) b = a;
    *lo = a;
    *hi = b;
}

// Backward-data view: the output index o that input i >= 0 reaches through tap t >= 0, or -1 when none does (i + pad -
// t dilation is negative, not a multiple of the stride, or lands past the last output). A template so device code
// can divide in 32 bits (a 64-bit division is a slow software routine on the GPU). The numerator is formed in int64
// whatever I is: pad goes up to INT32_MAX, so i + pad passes INT32_MAX for I = int. When it is >= 0 it is at most
// i + pad < 2^32, which I's unsigned type holds, so the division runs in that type.
template <class I>
KILN_HD I output_from_input(I i, I t, I out, int32_t stride, int32_t pad, int32_t dilation) {
    using U = typename std::make_unsigned<I>::type;
    const int64_t num = (int64_t)i + pad - (int64_t)t * dilation;
    if (num < 0) return -1;
    const U o = (U)num / (U)stride;
    return (o * (U)stride == (U)num && o < (U)out) ? (I)o : -1;
}

// Element counts; int64 everywhere because n * c * h * w passes 2^31 for real batches.
KILN_HD int64_t x_size(const Geometry& g) { return g.n * g.c * g.h * g.w; }
KILN_HD int64_t w_size(const Geometry& g) { return g.k * g.c * g.r * g.s; }
KILN_HD int64_t y_size(const Geometry& g) { return g.n * g.k * g.p * g.q; }
// Length of the GEMM reduction of the forward: one filter's taps.
KILN_HD int64_t taps(const Geometry& g) { return g.c * g.r * g.s; }

// 2 N K C R S P Q: the multiply-adds of one direction (forward, backward-data and backward-weight are equal).
KILN_HD double flops(const Geometry& g) {
    return 2.0 * (double)g.n * (double)g.k * (double)g.c * (double)g.r * (double)g.s * (double)g.p * (double)g.q;
}

}  // namespace kiln::conv

// Math of the embedding family shared by native/src/cpu/embedding.cpp and kernels/embedding.cu: the value of a
// looked-up row whose index is out of range, and the sinusoidal positional encodings.
#pragma once

#include <stdint.h>

#include "numerics.h"

#if !defined(__CUDACC__)
#include <math.h>  // exp, sin, cos (double) as plain functions, the spelling nvcc also resolves on the device
#endif

namespace kiln {

// What an out-of-range index looks up: a quiet NaN, so a bad token poisons the loss instead of reading other memory.
KILN_HD float embedding_missing_value() { return kiln_bits_to_float(0x7fc00000u); }

// Whether a looked-up index names a row of a (vocab, dim) table.
KILN_HD bool embedding_index_ok(int32_t v, int64_t vocab) { return v >= 0 && (int64_t)v < vocab; }

// The frequency w_i = 10000^(-2i / dim) of columns 2i and 2i + 1, in double: exp(-(2i / dim) ln 10000).
KILN_HD double sinusoid_frequency(int64_t col, int64_t dim) {
    const int64_t even = col - (col & 1);
    return exp(-((double)even / (double)dim) * 9.2103403719761836);
}

// sin(p w) for an even column, cos(p w) for an odd one, evaluated in double and rounded once to float: accurate to
// the float's rounding for any position up to 2^53, where p w formed in fp32 would lose the phase at large p. Both backends evaluate the same double expression, so they agree except where their libraries' last-bit
// differences straddle a float rounding boundary.
KILN_HD float sinusoid_value(int64_t position, double freq, int64_t col) {
    const double a = (double)position * freq;
    return (float)((col & 1) ? cos(a) : sin(a));
}

}  // namespace kiln

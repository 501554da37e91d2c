// Host/device portability macros and IEEE-exact float primitives shared by the CPU backend and the CUDA kernels.
// Code that must give bit-identical results on both backends uses only the kiln_f* helpers below: they never
// fuse or reorder (the CPU backend is built with -ffp-contract=off, and device code uses the _rn intrinsics).
#pragma once

#include <stdint.h>

#if defined(__CUDACC__)
#define KILN_HD __host__ __device__ __forceinline__
#else
#define KILN_HD inline
#endif

#if defined(__CUDA_ARCH__)
KILN_HD float kiln_fadd(float a, float b) { return __fadd_rn(a, b); }
KILN_HD float kiln_fmul(float a, float b) { return __fmul_rn(a, b); }
KILN_HD float kiln_fdiv(float a, float b) { return __fdiv_rn(a, b); }
KILN_HD float kiln_frcp(float a) { return __frcp_rn(a); }  // 1/a correctly rounded: the bits of kiln_fdiv(1, a)
KILN_HD float kiln_fma(float a, float b, float c) { return __fmaf_rn(a, b, c); }
KILN_HD float kiln_fsqrt(float a) { return __fsqrt_rn(a); }
KILN_HD uint32_t kiln_mulhi_u32(uint32_t a, uint32_t b) { return __umulhi(a, b); }
KILN_HD float kiln_bits_to_float(uint32_t u) { return __uint_as_float(u); }
KILN_HD uint32_t kiln_float_to_bits(float f) { return __float_as_uint(f); }
KILN_HD double kiln_dadd(double a, double b) { return __dadd_rn(a, b); }
KILN_HD double kiln_dmul(double a, double b) { return __dmul_rn(a, b); }
KILN_HD float kiln_double_to_float(double a) { return __double2float_rn(a); }
#else
#include <cmath>
#include <cstring>
KILN_HD float kiln_fadd(float a, float b) { return a + b; }
KILN_HD float kiln_fmul(float a, float b) { return a * b; }
KILN_HD float kiln_fdiv(float a, float b) { return a / b; }
KILN_HD float kiln_frcp(float a) { return 1.0f / a; }
KILN_HD float kiln_fma(float a, float b, float c) { return std::fma(a, b, c); }
KILN_HD float kiln_fsqrt(float a) { return std::sqrt(a); }
KILN_HD uint32_t kiln_mulhi_u32(uint32_t a, uint32_t b) { return (uint32_t)(((uint64_t)a * b) >> 32); }
KILN_HD float kiln_bits_to_float(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
KILN_HD uint32_t kiln_float_to_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
KILN_HD double kiln_dadd(double a, double b) { return a + b; }
KILN_HD double kiln_dmul(double a, double b) { return a * b; }
KILN_HD float kiln_double_to_float(double a) { return (float)a; }
#endif

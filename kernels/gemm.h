// The gemm family's backend entries: kiln::cpu (native/src/cpu/gemm.cpp) and kiln::cuda (host launchers of
// kernels/gemm.cu), fp32 GEMM, plus the GPU's SGEMM itself, which other CUDA families call. Nothing is validated here
// (core validates first). The CPU's SGEMM, packing and micro-kernels are declared in cpu/sgemm.h.
#pragma once

#include <cstdint>

#include "common/cuda_api.h"
#include "kiln/kiln.h"

namespace kiln::cpu {

// The C ABI's GEMM (kiln_gemm_desc, validated by core): sgemm for batch 1, else sgemm_strided_batched.
void gemm_f32(const kiln_gemm_desc& d, const float* a, const float* b, float* c);

}  // namespace kiln::cpu

// On the GPU pointers are device memory, nothing synchronizes, and errors come back as the launch's cudaError_t.
namespace kiln::cuda {

// C = alpha * op(A) * op(B) + beta * C, all row-major fp32, queued on stream s.
// op(A) is (M, K): A is stored (M, K) with leading dim lda, or (K, M) when transA.
// op(B) is (K, N): B is stored (K, N) with leading dim ldb, or (N, K) when transB.   C is (M, N), ldc.
// beta == 0 never reads C; alpha == 0 or K == 0 gives C = beta * C without reading A or B;
// M == 0 or N == 0 launches nothing and returns cudaSuccess. K and the number of 128x128 tiles of C must fit
// in int32 (cudaErrorInvalidValue otherwise, nothing launched). Needs sm_80 or newer (cp.async).
// float4 paths are taken when a pointer is 16-byte aligned and its ld (and stride) is a multiple of 4.
cudaError_t sgemm(cudaStream_t s, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// `batch` independent GEMMs with the same shapes; matrix i uses A + i*strideA, B + i*strideB, C + i*strideC.
cudaError_t sgemm_strided_batched(cudaStream_t s, bool transA, bool transB, int64_t M, int64_t N, int64_t K,
                                  float alpha, const float* A, int64_t lda, int64_t strideA, const float* B,
                                  int64_t ldb, int64_t strideB, float beta, float* C, int64_t ldc, int64_t strideC,
                                  int64_t batch);

// The C ABI's GEMM, as on the CPU.
cudaError_t gemm_f32(cudaStream_t s, const kiln_gemm_desc& d, const float* a, const float* b, float* c);

}  // namespace kiln::cuda

// The CUDA runtime types that the launchers' declarations (kernels/*.h, the backend headers) use: the real header where
// CUDA is built, opaque stand-ins otherwise, so core and the CPU backend can include the backend headers
// unconditionally and a CPU-only build needs no CUDA toolkit. In a CPU-only build nothing declared with them is
// defined or called.
#pragma once

#if defined(__CUDACC__) || (defined(KILN_WITH_CUDA) && KILN_WITH_CUDA)
#include <cuda_runtime_api.h>
#else
struct CUstream_st;
typedef struct CUstream_st* cudaStream_t;
enum cudaError_t : int { cudaSuccess = 0 };
#endif

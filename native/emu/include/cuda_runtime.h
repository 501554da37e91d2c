// Kiln's CUDA emulator (native/emu): the runtime API with its C++ templates, as nvcc includes it into every .cu.
#pragma once

#include "cuda_runtime_api.h"
#include "kiln_emu/launch.h"

// cudaMalloc into a typed pointer, as the real header's template allows.
template <class T>
cudaError_t cudaMalloc(T** ptr, size_t bytes) {
    return cudaMalloc(reinterpret_cast<void**>(ptr), bytes);
}

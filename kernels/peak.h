// The peak family's backend entries: kiln::cpu (native/src/cpu/peak.cpp, the host) and kiln::cuda (host launcher of
// kernels/peak.cu, the GPU): the measured fp32 FMA throughput and copy bandwidth (kiln_measure_peak).
#pragma once

#include "common/cuda_api.h"
#include "common/scratch.h"
#include "kiln/kiln.h"

namespace kiln::cpu {

// Fills *out; best of 3 of each. Throws std::bad_alloc where the 256 MiB copy buffers cannot be had.
void measure_peak(kiln_device_peak* out);

}  // namespace kiln::cpu

namespace kiln::cuda {

// Fills *out (waits for its own events); best of 3 of each. Takes 2 x 256 MiB of scratch for the copy.
cudaError_t measure_peak(cudaStream_t s, Scratch& scratch, kiln_device_peak* out);

}  // namespace kiln::cuda

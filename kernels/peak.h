// Host launcher of kernels/peak.cu: the GPU's measured fp32 FMA throughput and copy bandwidth (kiln_measure_peak).
#pragma once

#include "common/cuda_api.h"
#include "common/scratch.h"
#include "kiln/kiln.h"

namespace kiln::cuda {

// Fills *out (waits for its own events); best of 3 of each. Takes 2 x 256 MiB of scratch for the copy.
cudaError_t measure_peak(cudaStream_t s, Scratch& scratch, kiln_device_peak* out);

}  // namespace kiln::cuda

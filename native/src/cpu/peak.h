// CPU twin of kernels/peak.cu: the host's measured fp32 FMA throughput and copy bandwidth (kiln_measure_peak).
#pragma once

#include "kiln/kiln.h"

namespace kiln::cpu {

// Fills *out; best of 3 of each. Throws std::bad_alloc where the 256 MiB copy buffers cannot be had.
void measure_peak(kiln_device_peak* out);

}  // namespace kiln::cpu

// Which of an entry's kernel paths ran, for the profiler (kiln_last_op in kiln.h). A backend whose entry can run
// more than one way (Winograd or implicit GEMM, the persistent LSTM or one launch per step, tensor cores or CUDA
// cores) names the one it took from the calling thread, before it returns. Implemented by the core (profile.cpp):
// a thread-local store of a pointer, so calling it costs nothing measurable.
#pragma once

namespace kiln {

// `path` must be a string literal (it is kept by pointer): "winograd", "implicit_gemm", "persistent", "per_step".
void note_kernel_path(const char* path) noexcept;

}  // namespace kiln
